using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ConfigInjector.Tls;

/// <summary>
/// The serving certificate for Kestrel's certificate selector, re-read when its files change (cert-manager or a
/// Secret rotation swaps them) with no restart. Until a pair loads, <see cref="Current"/> is null and readiness fails.
/// </summary>
internal sealed partial class CertificateSource : IDisposable
{
    private readonly string _certFile;
    private readonly string _keyFile;
    private readonly ILogger<CertificateSource> _log;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private volatile X509Certificate2? _current;
    private (string, string, DateTime, DateTime, long, long) _stamp;

    public CertificateSource(string certFile, string keyFile, TimeProvider time, ILogger<CertificateSource> log, TimeSpan? pollInterval = null)
    {
        _certFile = certFile;
        _keyFile = keyFile;
        _log = log;
        Reload();
        var interval = pollInterval ?? TimeSpan.FromSeconds(10);
        _timer = time.CreateTimer(_ => Reload(), null, interval, interval);
    }

    public X509Certificate2? Current => _current;

    public string? Problem { get; private set; }

    private static FileInfo FinalTarget(string path)
    {
        try
        {
            return File.ResolveLinkTarget(path, returnFinalTarget: true) as FileInfo ?? new FileInfo(path);
        }
        catch (IOException)
        {
            return new FileInfo(path);
        }
    }

    public void Reload()
    {
        lock (_lock)
        {
            // A mounted Secret is a chain of symlinks (tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>) that kubelet
            // swaps by replacing ..data: the links themselves never change, so look at the files they end at.
            var cert = FinalTarget(_certFile);
            var key = FinalTarget(_keyFile);
            if (!cert.Exists || !key.Exists)
            {
                Problem = $"waiting for {_certFile} and {_keyFile}";
                return;
            }
            var stamp = (cert.FullName, key.FullName, cert.LastWriteTimeUtc, key.LastWriteTimeUtc, cert.Length, key.Length);
            if (stamp == _stamp && _current is not null)
                return;
            try
            {
                var loaded = X509Certificate2.CreateFromPemFile(_certFile, _keyFile);
                _current = loaded;
                _stamp = stamp;
                Problem = null;
                LogLoaded(_log, _certFile, loaded.Subject, loaded.NotAfter);
            }
            catch (Exception e) when (e is CryptographicException or IOException or ArgumentException)
            {
                // Keep serving the previous pair: a half-written rotation must not take the webhook down.
                Problem = $"cannot load {_certFile}: {e.Message}";
                LogFailed(_log, _certFile, e.Message);
            }
        }
    }

    public void Dispose() => _timer.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "serving certificate loaded from {File}: {Subject}, valid until {NotAfter:u}")]
    private static partial void LogLoaded(ILogger logger, string file, string subject, DateTime notAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "serving certificate not (re)loaded from {File}: {Reason}")]
    private static partial void LogFailed(ILogger logger, string file, string reason);
}
