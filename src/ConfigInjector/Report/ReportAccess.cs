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
    /// <param name="flag">The flag the entries came from, for the error messages (<c>--refresh-access</c> takes the same forms).</param>
    public static ReportAccess Parse(string text, string flag = "--report-access")
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
                throw new ConfigException($"{flag} \"{Core.Text.Quote.Short(entry)}\": expected subject:<certificate subject or CN>, user:<name> or group:<name>");
            set.Add(name);
        }
        // Groups every workload, node or user is in would open the report to all of them.
        if (groups.FirstOrDefault(IsEveryone) is { } broad)
            throw new ConfigException($"{flag} group:{broad}: every pod's service account, every node (or everyone) is in that group; name the security team's group or users");
        if (subjects.Count + users.Count + groups.Count == 0)
            throw new ConfigException($"{flag} names nobody; expected subject:<name>, user:<name> or group:<name>");
        return new ReportAccess(subjects, users, groups);
    }

    private static bool IsEveryone(string group) =>
        group is "system:authenticated" or "system:unauthenticated" or "system:serviceaccounts" or "system:nodes" or "system:bootstrappers"
        || group.StartsWith("system:serviceaccounts:", StringComparison.Ordinal) || group.StartsWith("system:bootstrappers:", StringComparison.Ordinal);

    /// <summary>The audience a bearer token must be minted for (<c>kubectl create token … --audience</c>), so no token meant for the API server is taken.</summary>
    public const string TokenAudience = "configinjector.io/report";

    /// <summary>A certificate (already checked to come from the report's CA) whose whole subject or one of its CNs is named.</summary>
    public bool AllowsCertificate(X509Certificate2 certificate) =>
        Subjects.Contains(certificate.Subject) || Tls.CertificateNames.CommonNames(certificate).Any(Subjects.Contains);

    public bool AllowsUser(string user, IReadOnlyList<string> userGroups) => Users.Contains(user) || userGroups.Any(Groups.Contains);

    public bool UsesTokens => Users.Count + Groups.Count > 0;
}
