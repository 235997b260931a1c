using System.Globalization;
using ConfigInjector.Configuration;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Backends.Files;

/// <summary>
/// The embedded default backend: a YAML file read at start and re-read when it changes. A file that
/// disappears makes reads fail (the cache keeps last-known-good); one that fails to parse mid-edit is ignored.
/// A path's version is the file's modification time (unix ms) when that path's content last changed,
/// so versions stay stable across restarts and reveal nothing about the values.
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

    private sealed record Snapshot(DateTime ModifiedUtc, long Length, IReadOnlyDictionary<string, SecretDocument> Documents);

    public FileBackend(string name, string file, TimeProvider time, ILogger<FileBackend> log)
    {
        Name = name;
        _file = file;
        _time = time;
        _log = log;
        _snapshot = Load(null);
        _lastCheckTicks = time.GetTimestamp();
    }

    public string Name { get; }

    public ValueTask<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ReloadIfChanged();
        if (_missing)
            return ValueTask.FromResult(SecretRead.Failed(location, $"the secrets file {Path.GetFileName(_file)} is missing"));
        var snapshot = _snapshot;
        if (!snapshot.Documents.TryGetValue(location.Path, out var document))
            return ValueTask.FromResult(SecretRead.NotFound(location, $"no path \"{location.Path}\" in {Path.GetFileName(_file)}"));
        if (location.Version is not null && location.Version != document.Version)
        {
            return ValueTask.FromResult(SecretRead.NotFound(location,
                $"version {location.Version} is not available; the file backend keeps only the current version ({document.Version})"));
        }
        return ValueTask.FromResult(SecretRead.Found(location, document));
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
                _snapshot = Load(_snapshot);
                LogReloaded(_log, Name, _snapshot.Documents.Count);
            }
            catch (ConfigException e)
            {
                LogReloadFailed(_log, Name, e.Message);
            }
        }
    }

    private Snapshot Load(Snapshot? previous)
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
        var stamp = new DateTimeOffset(info.LastWriteTimeUtc).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var documents = new Dictionary<string, SecretDocument>(StringComparer.Ordinal);
        foreach (var (path, data) in SecretsFile.Parse(text, _file))
        {
            var old = previous?.Documents.GetValueOrDefault(path);
            documents[path] = new SecretDocument(old is not null && SecretsFile.SameContent(old.Data, data) ? old.Version : stamp, data);
        }
        return new Snapshot(info.LastWriteTimeUtc, info.Length, documents);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "file backend {Backend}: reloaded {Paths} paths")]
    private static partial void LogReloaded(ILogger logger, string backend, int paths);

    [LoggerMessage(Level = LogLevel.Warning, Message = "file backend {Backend}: reload failed, keeping the previous content: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string backend, string reason);
}
