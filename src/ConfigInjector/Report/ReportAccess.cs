using System.Security.Cryptography.X509Certificates;
using ConfigInjector.Configuration;

namespace ConfigInjector.Report;

/// <summary>
/// <c>serve --report-access</c>: who may open <c>/report</c>. Entries, comma-separated: <c>subject:NAME</c> (a client
/// certificate, chained to <c>--client-ca</c>, whose subject or common name is NAME), <c>user:NAME</c> and
/// <c>group:NAME</c> (a bearer token the API server's TokenReview authenticates as that user or in that group).
/// Nobody when the flag is not given: the endpoint is not served at all.
/// </summary>
internal sealed record ReportAccess(IReadOnlySet<string> Subjects, IReadOnlySet<string> Users, IReadOnlySet<string> Groups)
{
    public static ReportAccess Parse(string text)
    {
        var subjects = new HashSet<string>(StringComparer.Ordinal);
        var users = new HashSet<string>(StringComparer.Ordinal);
        var groups = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            var (kind, name) = colon > 0 ? (entry[..colon], entry[(colon + 1)..]) : ("", "");
            var set = kind switch { "subject" => subjects, "user" => users, "group" => groups, _ => null };
            if (set is null || name.Length == 0)
                throw new ConfigException($"--report-access \"{Core.Text.Quote.Short(entry)}\": expected subject:<certificate subject or CN>, user:<name> or group:<name>");
            set.Add(name);
        }
        // Groups every workload or every user is in would open the report to all of them.
        if (groups.FirstOrDefault(g => g is "system:authenticated" or "system:unauthenticated" or "system:serviceaccounts" || g.StartsWith("system:serviceaccounts:", StringComparison.Ordinal)) is { } broad)
            throw new ConfigException($"--report-access group:{broad}: every pod's service account (or everyone) is in that group; name the security team's group or users");
        if (subjects.Count + users.Count + groups.Count == 0)
            throw new ConfigException("--report-access names nobody; expected subject:<name>, user:<name> or group:<name>");
        return new ReportAccess(subjects, users, groups);
    }

    public bool AllowsCertificate(X509Certificate2? certificate) =>
        certificate is not null && (Subjects.Contains(certificate.Subject) || (CommonName(certificate) is { } cn && Subjects.Contains(cn)));

    /// <summary>The subject's CN itself (GetNameInfo falls back to other fields when there is none).</summary>
    private static string? CommonName(X509Certificate2 certificate) =>
        certificate.SubjectName.EnumerateRelativeDistinguishedNames()
            .Where(n => n.GetSingleElementType().Value == "2.5.4.3")
            .Select(n => n.GetSingleElementValue())
            .FirstOrDefault();

    public bool AllowsUser(string user, IReadOnlyList<string> userGroups) => Users.Contains(user) || userGroups.Any(Groups.Contains);

    public bool UsesTokens => Users.Count + Groups.Count > 0;
}
