using System.Text;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Admission;

/// <summary>
/// A secret value never appears in responses, pod specs, warnings, denials, logs, metrics or the managed Secret's
/// annotations — only in its data. Templates included: neither the value nor a filter's encoding of it leaks.
/// </summary>
public class NoValueLeakTests
{
    [Fact]
    public async Task No_dev_secret_value_reaches_responses_logs_or_metrics()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WebhookServer.StartAsync(settings: s => s with { Time = time });
        var values = DevSecrets.Values();
        var seen = new StringBuilder();

        var pods = new[]
        {
            PodBuilder.Injected().WithAnnotation("configinjector.io/secret.P", "dev:app/db#password").WithAnnotation("configinjector.io/file.t", "dev:app/api#token"),
            PodBuilder.Injected().WithAnnotation("configinjector.io/secrets-from", "dev:app/db"),
            PodBuilder.Injected().WithAnnotation("configinjector.io/config.L", "dev:shared/sentry#dsn"),
            PodBuilder.Injected().WithAnnotation("configinjector.io/secret.P", "dev:team-b/db#password"),
            PodBuilder.Injected().WithAnnotation("configinjector.io/secret.P", "dev:app/db#nokey"),
            PodBuilder.Injected().WithAnnotation("configinjector.io/secret.P", "dev:app/db"),
            PodBuilder.Create().WithContainer("app", ("X", "configinjector:dev:app/db#password")).WithAnnotation("configinjector.io/inject", "true"),
            PodBuilder.Injected().WithAnnotation("configinjector.io/template.URL", "pg://${dev:app/db#user}:${dev:app/db#password | urlencode}@db/app"),
            PodBuilder.Injected().WithAnnotation("configinjector.io/file-template.c.json", "{\"p\": ${dev:app/db#password | json}, \"t\": \"${dev:app/api#token | base64}\"}"),
            PodBuilder.Injected().WithAnnotation("configinjector.io/file-from.db.env", "dev:app/db").WithAnnotation("configinjector.io/file-format.db.env", "dotenv"),
            PodBuilder.Injected().WithAnnotation("configinjector.io/template.U", "${dev:app/db#password}:${dev:team-b/db#password}"),
            PodBuilder.Injected().WithAnnotation("configinjector.io/template.U", "${dev:app/db#password | nope}"),
            PodBuilder.Injected().WithAnnotation("configinjector.io/template.U", "${dev:app/db#password}${dev:app/db#nokey}"),
        };
        foreach (var pod in pods)
        {
            var review = await server.ReviewPodAsync(pod);
            seen.AppendLine(review.Body).AppendLine(review.PatchText).AppendLine(review.Message).AppendJoin('\n', review.Warnings);
        }

        // A broken secrets file whose parse error sits right at a value: the reload failure is logged by position only.
        await File.WriteAllTextAsync(Path.Combine(server.WorkDir, "examples", "dev-secrets.yaml"), "app/db:\n  password: dev-only-db-password-7f3a\n  user: [dev-only-db-user-c41e\n");
        time.Advance(TimeSpan.FromMinutes(6)); // past the cache TTL, so the backend re-reads the file
        var afterBrokenFile = await server.ReviewPodAsync(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.P", "dev:app/db#password"));
        Assert.True(afterBrokenFile.Allowed);
        seen.AppendLine(afterBrokenFile.Body);

        seen.AppendLine(await server.Client.GetStringAsync("/metrics"));
        seen.AppendLine(server.AllLogText());
        Assert.Contains("reload failed", server.AllLogText(), StringComparison.Ordinal);

        foreach (var secret in server.Secrets.Secrets)
            seen.AppendJoin('\n', secret.Metadata.Annotations.Select(a => $"{a.Key}={a.Value}")).AppendLine();

        var everything = seen.ToString();
        foreach (var value in values)
        {
            foreach (var form in new[] { value, Uri.EscapeDataString(value), Convert.ToBase64String(Encoding.UTF8.GetBytes(value)) })
                Assert.DoesNotContain(form, everything, StringComparison.Ordinal);
        }
        Assert.Contains(server.Secrets.Secrets, s => s.Data.Values.Any(v => Encoding.UTF8.GetString(v) == "pg://dev-only-db-user-c41e:dev-only-db-password-7f3a@db/app"));
        Assert.Contains(server.Secrets.Secrets, s => s.Data.Values.Any(v => Encoding.UTF8.GetString(v) == "dev-only-db-password-7f3a"));
    }
}
