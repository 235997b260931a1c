using ConfigInjector.Configuration;

namespace ConfigInjector.Backends;

/// <summary>
/// What every backend that speaks to a server reads the same way: <c>caFile</c> (a private CA, resolved against the
/// config file's folder), <c>timeout</c> per attempt, and <c>retry: { attempts, baseDelay }</c>.
/// </summary>
internal sealed record TransportSettings(string? CaFile, TimeSpan Timeout, int Attempts, TimeSpan BaseDelay)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan DefaultBaseDelay = TimeSpan.FromMilliseconds(200);
    public const int DefaultAttempts = 3;

    public static TransportSettings Read(BackendSettings settings)
    {
        var node = settings.Node;
        var caFile = node.String("caFile") is { Length: > 0 } ca ? settings.ResolvePath(ca) : null;
        if (caFile is not null && !File.Exists(caFile))
            throw node.ErrorAt("caFile", $"{caFile} does not exist");
        var timeout = node.Duration("timeout", DefaultTimeout);
        var retry = node.Mapping("retry");
        var attempts = (int)(retry?.Long("attempts", DefaultAttempts, 1, 10) ?? DefaultAttempts);
        var baseDelay = retry?.Duration("baseDelay", DefaultBaseDelay) ?? DefaultBaseDelay;
        retry?.RejectUnknown();
        return new TransportSettings(caFile, timeout, attempts, baseDelay);
    }
}
