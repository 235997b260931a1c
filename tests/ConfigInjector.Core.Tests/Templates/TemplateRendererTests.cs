using ConfigInjector.Core.References;
using ConfigInjector.Core.Templates;

namespace ConfigInjector.Core.Tests.Templates;

public class TemplateRendererTests
{
    private static readonly Dictionary<string, string> Values = new()
    {
        ["vault:db#user"] = "svc user",
        ["vault:db#password"] = "p@ss:w/rd?&=#%ü",
        ["vault:db#padded"] = "  spaced \n",
        ["vault:db#quote"] = "say \"hi\"\\ \u0001 ü",
    };

    private static string Render(string template) =>
        TemplateRenderer.Render(TemplateParser.Parse(template).Value!, r => Values.GetValueOrDefault(r.ToString())).Value!;

    [Fact]
    public void Urlencode_encodes_a_uri_component_per_rfc_3986()
    {
        Assert.Equal("postgres://svc%20user:p%40ss%3Aw%2Frd%3F%26%3D%23%25%C3%BC@db:5432/app",
            Render("postgres://${vault:db#user|urlencode}:${vault:db#password | urlencode}@db:5432/app"));
        Assert.Equal("AZaz09-._~", TemplateRenderer.Apply("AZaz09-._~", TemplateFilter.UrlEncode));
    }

    [Fact]
    public void Base64_json_and_trim_do_what_they_say()
    {
        Assert.Equal(Convert.ToBase64String("svc user"u8.ToArray()), Render("${vault:db#user|base64}"));
        Assert.Equal("{\"password\": \"say \\\"hi\\\"\\\\ \\u0001 ü\"}", Render("{\"password\": ${vault:db#quote | json}}"));
        Assert.Equal("[spaced]", Render("[${vault:db#padded|trim}]"));
        Assert.Equal("\"spaced\"", Render("${vault:db#padded|trim|json}"));
    }

    [Fact]
    public void A_ref_without_a_value_is_named_never_a_value()
    {
        var result = TemplateRenderer.Render(TemplateParser.Parse("u=${vault:db#user} x=${vault:db#missing}").Value!, r => Values.GetValueOrDefault(r.ToString()));

        Assert.Equal("column 22: vault:db#missing has no value", result.Error);
    }

    [Fact]
    public void The_rendered_size_is_bounded()
    {
        var big = new string('x', TemplateRenderer.MaxRenderedLength);
        var result = TemplateRenderer.Render(TemplateParser.Parse("${dev:a#b}!").Value!, _ => big);

        Assert.Equal("the rendered text is longer than 65536 characters", result.Error);
        Assert.DoesNotContain("xxx", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chain_of_growing_filters_stops_at_the_first_step_past_the_limit()
    {
        // Each json doubles a run of backslashes: eight of them would make 256 times the value before any check.
        var backslashes = new string('\\', 100_000);
        var template = TemplateParser.Parse("${dev:a#b | json | json | json | json | json | json | json | json}").Value!;
        var before = GC.GetAllocatedBytesForCurrentThread();

        var result = TemplateRenderer.Render(template, _ => backslashes);

        Assert.Equal("the rendered text is longer than 65536 characters", result.Error);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 * 1024 * 1024, "rendering stopped after the first filter past the limit");
    }

    [Fact]
    public void A_literal_dollar_brace_comes_out_as_written()
    {
        Assert.Equal("${HOME}/svc user", Render("$${HOME}/${vault:db#user}"));
    }

    [Fact]
    public void Refs_keep_their_versions()
    {
        var template = TemplateParser.Parse("${vault:db#user@3}").Value!;

        Assert.Equal(new SecretReference("vault", "db", "user", "3"), template.Refs[0]);
    }
}
