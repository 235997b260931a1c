namespace ConfigInjector.Core.Policies;

/// <summary>
/// The backends a SecretPolicy's rules or a ConfigProfile's secretEnv name that this install does not configure: such a
/// rule allows nothing and such a setting is never injected, which a security team should see on the object itself.
/// </summary>
public static class UnknownBackends
{
    /// <summary>One line naming them and the configured ones, or null when every backend named is configured.</summary>
    public static string? Describe(IEnumerable<SecretPolicy> policies, IEnumerable<ConfigProfile> profiles, IReadOnlySet<string> configured)
    {
        var named = policies.SelectMany(p => p.Rules.Select(r => r.Backend))
            .Concat(profiles.SelectMany(p => p.SecretEnv.Values.Select(r => r.Backend)));
        var unknown = named.Where(b => !configured.Contains(b)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count == 0)
            return null;
        var have = configured.Count == 0 ? "none" : string.Join(", ", configured.Order(StringComparer.Ordinal));
        return $"names backend{(unknown.Count == 1 ? "" : "s")} {string.Join(", ", unknown)}, not configured in this install (configured: {have}): what {(unknown.Count == 1 ? "it allows" : "they allow")} is never injected";
    }
}
