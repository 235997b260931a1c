namespace ConfigInjector.Core.References;

/// <summary>A parsed <c>&lt;backend&gt;:&lt;path&gt;[#&lt;key&gt;][@&lt;version&gt;]</c> reference.</summary>
public sealed record SecretReference(string Backend, string Path, string? Key, string? Version)
{
    /// <summary>The same reference with a different key, e.g. one key of a <c>secrets-from</c> path.</summary>
    public SecretReference WithKey(string key) => this with { Key = key };

    /// <summary>What is read from a backend: the key is picked afterwards, so refs that differ only by key share one read.</summary>
    public SecretLocation Location => new(Backend, Path, Version);

    // One string per call, no "#key" or "@version" piece built first: planning and the audit line call it for every ref.
    public override string ToString() => (Key, Version) switch
    {
        (null, null) => $"{Backend}:{Path}",
        (null, _) => $"{Backend}:{Path}@{Version}",
        (_, null) => $"{Backend}:{Path}#{Key}",
        _ => $"{Backend}:{Path}#{Key}@{Version}",
    };
}

/// <summary>One document in one backend, at one version (null = latest).</summary>
public sealed record SecretLocation(string Backend, string Path, string? Version)
{
    public override string ToString() => Version is null ? $"{Backend}:{Path}" : $"{Backend}:{Path}@{Version}";
}
