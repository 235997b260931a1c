using System.Text.Json;
using System.Text.RegularExpressions;
using ConfigInjector.Core.Policies;
using ConfigInjector.Policies;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// One SecretPolicy or ConfigProfile object as the webhook judged it: <see cref="Problem"/> is null when the webhook
/// uses it, else the one line that says why it is left out (the field and what is wrong with it). <see cref="Warning"/>
/// is what is wrong with an object the webhook uses: a backend this install does not configure.
/// </summary>
internal sealed record PolicyVerdict(string Plural, CustomResource Item, string? Problem, string? Warning = null)
{
    /// <summary>"SecretPolicy payments", as the log and the reader name the object.</summary>
    public string Label => $"{Item.Kind} {Item.Metadata.Name}";

    /// <summary>Reads the object with the same reader as the policy files.</summary>
    /// <param name="backends">The backends this install configures; null: not checked (the CLI reads the objects without them).</param>
    public static (PolicyVerdict Verdict, PolicyLoadResult Result) Judge(string plural, CustomResource item, IReadOnlySet<string>? backends = null)
    {
        var label = $"{item.Kind} {item.Metadata.Name}";
        PolicyLoadResult result;
        try
        {
            result = PolicyDocumentReader.Parse(item.Json, label);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            result = new PolicyLoadResult([], [], [e.Message]);
        }
        var problem = result.Errors.Count == 0 ? null : WithoutPosition(result.Errors[0], label);
        var warning = problem is null && backends is not null ? UnknownBackends.Describe(result.Policies, result.Profiles, backends) : null;
        return (new PolicyVerdict(plural, item, problem, warning), result);
    }

    // The reader names file:line:column; for an object the "file" is its label and the line and column point into the
    // JSON the API server sent, which nobody sees: "spec.onBackendError: ..." is what helps.
    private static string WithoutPosition(string error, string label)
    {
        var line = error.Split('\n')[0];
        var position = Regex.Match(line, $@"^(?:{Regex.Escape(label)}: )?{Regex.Escape(label)}:\d+:\d+: ", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        return position.Success ? line[position.Length..] : line;
    }
}
