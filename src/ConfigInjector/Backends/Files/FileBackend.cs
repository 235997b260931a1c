using ConfigInjector.Configuration;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.ManagedSecrets;

namespace ConfigInjector.Backends.Files;

/// <summary>
/// The embedded default backend: a YAML file read at start and re-read when it changes. A file that
/// disappears makes reads fail (the cache keeps last-known-good); one that fails to parse mid-edit is ignored.
/// A path's version is a keyed HMAC of its content (<see cref="ContentVersion"/>, with the install's
/// <see cref="IVersionKey"/>): every process reading the same content reports the same version, whatever the file's
/// modification time on its node, and it reveals nothing about the values.
/// </summary>
internal sealed partial class FileBackend : ISecretBackend
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);
    private readonly string _file;
    private readonly TimeProvider _time;
    private readonly ILogger<FileBackend> _log;
    private readonly Lock _reloadLock = new();
    private volatile Snapshot _snapshot;
    private long _lastCheckTicks;
    private volatile bool _missing;

    private sealed record Snapshot(DateTime ModifiedUtc, long Length, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Documents);

    private readonly IVersionKey _versions;

    public FileBackend(string name, string file, IVersionKey versions, TimeProvider time, ILogger<FileBackend> log)
    {
        Name = name;
        _file = file;
        _versions = versions;
        _time = time;
        _log = log;
        _snapshot = Load();
        _lastCheckTicks = time.GetTimestamp();
    }

    public string Name { get; }

    public async ValueTask<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ReloadIfChanged();
        if (_missing)
            return SecretRead.Failed(location, $"the secrets file {Path.GetFileName(_file)} is missing");
        if (!_snapshot.Documents.TryGetValue(location.Path, out var data))
            return SecretRead.NotFound(location, $"no path \"{location.Path}\" in {Path.GetFileName(_file)}");
        string version;
        try
        {
            version = ContentVersion.Of(await _versions.GetAsync(cancellationToken), data);
        }
        catch (ManagedSecretException e)
        {
            return SecretRead.Failed(location, $"no version key: {e.Message}");
        }
        if (location.Version is not null && location.Version != version)
            return SecretRead.NotFound(location, $"version {location.Version} is not available; the file backend keeps only the current version ({version})");
        return SecretRead.Found(location, new SecretDocument(version, data));
    }

    private void ReloadIfChanged()
    {
        var now = _time.GetTimestamp();
        if (_time.GetElapsedTime(Interlocked.Read(ref _lastCheckTicks), now) < CheckInterval)
            return;
        lock (_reloadLock)
        {
            if (_time.GetElapsedTime(_lastCheckTicks, now) < CheckInterval)
                return;
            Interlocked.Exchange(ref _lastCheckTicks, now);
            var info = new FileInfo(_file);
            _missing = !info.Exists;
            if (_missing || (info.LastWriteTimeUtc == _snapshot.ModifiedUtc && info.Length == _snapshot.Length))
                return;
            try
            {
                _snapshot = Load();
                LogReloaded(_log, Name, _snapshot.Documents.Count);
            }
            catch (ConfigException e)
            {
                LogReloadFailed(_log, Name, e.Message);
            }
        }
    }

    private Snapshot Load()
    {
        string text;
        FileInfo info;
        try
        {
            info = new FileInfo(_file);
            text = File.ReadAllText(_file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{_file}: cannot read the secrets file: {e.Message}");
        }
        return new Snapshot(info.LastWriteTimeUtc, info.Length, SecretsFile.Parse(text, _file).ToDictionary(p => p.Key, p => (IReadOnlyDictionary<string, string>)p.Value, StringComparer.Ordinal));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "file backend {Backend}: reloaded {Paths} paths")]
    private static partial void LogReloaded(ILogger logger, string backend, int paths);

    [LoggerMessage(Level = LogLevel.Warning, Message = "file backend {Backend}: reload failed, keeping the previous content: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string backend, string reason);
}
