using ConfigInjector.Core.References;
using ConfigInjector.Core.Templates;

namespace ConfigInjector.Core.Tests.Templates;

public class TemplateParserTests
{
    [Fact]
    public void Literal_text_and_placeholders_with_filters_are_read_in_order()
    {
        var template = TemplateParser.Parse("postgres://${vault:db#user}:${ vault:db#password | urlencode }@db:5432/app").Value!;

        Assert.Collection(template.Parts,
            p => Assert.Equal(new Literal("postgres://"), p),
            p => Assert.Equal((new SecretReference("vault", "db", "user", null), 0, "column 12"), (((Placeholder)p).Ref, ((Placeholder)p).Filters.Count, ((Placeholder)p).At)),
            p => Assert.Equal(new Literal(":"), p),
            p => Assert.Equal([TemplateFilter.UrlEncode], ((Placeholder)p).Filters),
            p => Assert.Equal(new Literal("@db:5432/app"), p));
        Assert.Equal(["vault:db#user", "vault:db#password"], template.Refs.Select(r => r.ToString()));
    }

    [Fact]
    public void Double_dollar_brace_is_a_literal_and_a_lone_dollar_is_text()
    {
        var template = TemplateParser.Parse("cost $5, $${HOME} stays, ${dev:a#b}").Value!;

        Assert.Equal(new Literal("cost $5, ${HOME} stays, "), template.Parts[0]);
        Assert.Single(template.Refs);
    }

    [Fact]
    public void Filters_chain_left_to_right_and_a_ref_used_twice_is_one_ref()
    {
        var template = TemplateParser.Parse("${dev:a#b|trim|json} ${dev:a#b}").Value!;

        Assert.Equal([TemplateFilter.Trim, TemplateFilter.Json], ((Placeholder)template.Parts[0]).Filters);
        Assert.Single(template.Refs);
    }

    [Theory]
    [InlineData("", "the template is empty")]
    [InlineData("plain text", "the template has no ${<ref>} placeholder; a constant needs no template")]
    [InlineData("a ${dev:a#b", "column 3: '${' is not closed by '}'")]
    [InlineData("${}", "column 1: the placeholder is empty; expected ${<backend>:<path>[#<key>][@<version>]}")]
    [InlineData("x${ | json}", "column 2: the placeholder is empty; expected ${<backend>:<path>[#<key>][@<version>]}")]
    [InlineData("${dev:a#b | upper}", "column 1: unknown filter 'upper'; expected one of urlencode, base64, json, trim")]
    [InlineData("${dev:a#b |}", "column 1: a '|' with no filter after it; expected one of urlencode, base64, json, trim")]
    [InlineData("${nocolon}", "column 1: no ':' after the backend name; expected <backend>:<path>[#<key>][@<version>]")]
    [InlineData("${${dev:a#b}}", "column 1: placeholders do not nest")]
    [InlineData("ok ${dev:a#}", "column 4: the key after '#' is empty")]
    [InlineData("{\n  \"a\": ${dev:a#b | json},\n  \"b\": ${dev:a#c | yaml}\n}", "line 3, column 8: unknown filter 'yaml'; expected one of urlencode, base64, json, trim")]
    [InlineData("${dev:a#b|json|json|json|json|json|json|json|json|json}", "column 1: 9 filters; at most 8 are allowed on one placeholder")]
    public void A_mistake_is_one_line_naming_the_column(string text, string error)
    {
        var result = TemplateParser.Parse(text);

        Assert.Equal(error, result.Error);
    }

    [Fact]
    public void Length_and_placeholder_count_are_bounded()
    {
        var tooLong = TemplateParser.Parse("${dev:a#b}" + new string('x', TemplateParser.MaxLength));
        var tooMany = TemplateParser.Parse(string.Concat(Enumerable.Repeat("${dev:a#b}", TemplateParser.MaxPlaceholders + 1)));
        var enough = TemplateParser.Parse(string.Concat(Enumerable.Repeat("${dev:a#b}", TemplateParser.MaxPlaceholders)));

        Assert.Equal($"the template is {TemplateParser.MaxLength + 10} characters long; at most 16384 are allowed", tooLong.Error);
        Assert.Equal($"column {TemplateParser.MaxPlaceholders * 10 + 1}: more than 64 placeholders; at most 64 are allowed", tooMany.Error);
        Assert.True(enough.IsOk);
    }
}
