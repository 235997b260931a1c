using ConfigInjector.Configuration;

namespace ConfigInjector.Report;

/// <summary>
/// <c>serve --refresh-access</c>: who may <c>POST /refresh</c>. The forms of <c>--report-access</c> (<c>subject:</c>,
/// <c>user:</c>, <c>group:</c>; bearer tokens minted for <see cref="TokenAudience"/>), plus <c>secret-file:PATH</c>: a
/// shared secret, sent as <c>Authorization: Bearer &lt;secret&gt;</c>, for senders that can carry nothing else (an Event
/// Grid subscription's delivery header, a CI job). Nobody when the flag is not given: the endpoint is not served at all.
/// </summary>
internal sealed record RefreshAccess(ReportAccess People, string? SecretFile)
{
    public const string Flag = "--refresh-access";

    /// <summary>Tokens for /refresh are minted for their own audience: a reader's report token cannot trigger refreshes.</summary>
    public const string TokenAudience = "configinjector.io/refresh";

    private const string SecretFilePrefix = "secret-file:";

    public static RefreshAccess Parse(string text, string workingDirectory)
    {
        var entries = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length == 0)
            throw new ConfigException($"{Flag} names nobody; expected subject:<name>, user:<name>, group:<name> or secret-file:<path>");
        var files = entries.Where(e => e.StartsWith(SecretFilePrefix, StringComparison.Ordinal)).Select(e => e[SecretFilePrefix.Length..]).ToList();
        if (files.Count > 1 || files.Any(f => f.Length == 0))
            throw new ConfigException($"{Flag}: secret-file:PATH names one file (the shared secret), once");
        if (entries.FirstOrDefault(e => !e.StartsWith(SecretFilePrefix, StringComparison.Ordinal) && !IsPersonForm(e)) is { } unknown)
            throw new ConfigException($"{Flag} \"{Core.Text.Quote.Short(unknown)}\": expected subject:<certificate subject or CN>, user:<name>, group:<name> or secret-file:<path>");
        var people = entries.Where(IsPersonForm).ToList();
        var access = people.Count > 0 ? ReportAccess.Parse(string.Join(',', people), Flag) : new ReportAccess(new HashSet<string>(), new HashSet<string>(), new HashSet<string>());
        var file = files.Count == 1 ? Path.GetFullPath(files[0], workingDirectory) : null;
        if (file is not null && !File.Exists(file))
            throw new ConfigException($"{Flag} secret-file:{files[0]}: no such file (mount the Secret that holds the shared secret there)");
        return new RefreshAccess(access, file);
    }

    private static bool IsPersonForm(string entry) =>
        entry.StartsWith("subject:", StringComparison.Ordinal) || entry.StartsWith("user:", StringComparison.Ordinal) || entry.StartsWith("group:", StringComparison.Ordinal);
}
