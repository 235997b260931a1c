using ConfigInjector.Core.Policies;

namespace ConfigInjector.Policies;

/// <summary>
/// SecretPolicies read from the YAML files of a folder (out of a cluster), re-read when a file is added,
/// changed or removed. Invalid documents are logged and left out.
/// </summary>
internal sealed partial class FolderPolicySource : IPolicySource, IDisposable
{
    private readonly Lock _reloading = new();
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);
    private readonly string _folder;
    private readonly ILogger<FolderPolicySource> _log;
    private readonly ITimer? _timer;
    private volatile IReadOnlyList<SecretPolicy> _current = [];
    private volatile IReadOnlyList<ConfigProfile> _profiles = [];
    private string _fingerprint = "";

    public FolderPolicySource(string folder, TimeProvider time, ILogger<FolderPolicySource> log, bool watch = true)
    {
        _folder = folder;
        _log = log;
        Reload();
        if (watch)
            _timer = time.CreateTimer(_ => ReloadQuietly(), null, PollInterval, PollInterval);
    }

    public IReadOnlyList<SecretPolicy> Current => _current;

    public IReadOnlyList<ConfigProfile> Profiles => _profiles;

    public bool Ready => true;

    public IReadOnlyList<string> LastErrors { get; private set; } = [];

    public void Reload()
    {
        lock (_reloading)
        {
            var files = Files();
            var fingerprint = string.Join("|", files.Select(f => $"{f.FullName}:{f.LastWriteTimeUtc.Ticks}:{f.Length}"));
            if (fingerprint == _fingerprint && _fingerprint.Length > 0)
                return;
            _fingerprint = fingerprint;

            var policies = new List<SecretPolicy>();
            var profiles = new List<ConfigProfile>();
            var errors = new List<string>();
            foreach (var file in files)
            {
                string text;
                try
                {
                    text = File.ReadAllText(file.FullName);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Removed or swapped between listing and reading (a ConfigMap update): the next poll sees the new state.
                    _fingerprint = "";
                    errors.Add($"{file.Name}: not readable: {e.Message}");
                    continue;
                }
                var result = PolicyDocumentReader.Parse(text, Path.GetRelativePath(Directory.GetCurrentDirectory(), file.FullName));
                policies.AddRange(result.Policies);
                profiles.AddRange(result.Profiles);
                errors.AddRange(result.Errors);
            }
            foreach (var duplicate in policies.GroupBy(p => p.Name).Where(g => g.Count() > 1))
                errors.Add($"SecretPolicy {duplicate.Key} is defined {duplicate.Count()} times; all of them apply");
            foreach (var error in errors)
                LogInvalid(_log, error);
            foreach (var duplicate in profiles.GroupBy(p => p.Name).Where(g => g.Count() > 1))
                errors.Add($"ConfigProfile {duplicate.Key} is defined {duplicate.Count()} times; the first by file name is used");
            LastErrors = errors;
            _current = policies;
            _profiles = [.. profiles.DistinctBy(p => p.Name)];
            LogLoaded(_log, policies.Count, profiles.Count, _folder);
        }
    }

    public void Dispose() => _timer?.Dispose();

    // A timer callback that throws ends the process: keep the last good policies instead.
    private void ReloadQuietly()
    {
        try
        {
            Reload();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            LogInvalid(_log, $"{_folder}: {e.Message}");
        }
    }

    private FileInfo[] Files()
    {
        var directory = new DirectoryInfo(_folder);
        if (!directory.Exists)
            return [];
        return [.. directory.EnumerateFiles("*.*", SearchOption.TopDirectoryOnly)
            .Where(f => f.Extension is ".yaml" or ".yml")
            .OrderBy(f => f.Name, StringComparer.Ordinal)];
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "loaded {Policies} SecretPolicies and {Profiles} ConfigProfiles from {Folder}")]
    private static partial void LogLoaded(ILogger logger, int policies, int profiles, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ignored an invalid policy document: {Error}")]
    private static partial void LogInvalid(ILogger logger, string error);
}
