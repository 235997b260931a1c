using System.Security.Cryptography;
using System.Text;

namespace ConfigInjector.Report;

/// <summary>
/// The shared bearer secret of <c>--refresh-access secret-file:PATH</c>: re-read at most once a second, so a rotated
/// Secret volume takes effect within a second without a restart. Only its hash is kept, and a presented secret is
/// compared by hash in constant time, so neither its length nor its prefix shows in the answer's timing. A missing, empty
/// or short file (under <see cref="MinimumLength"/> characters) lets nobody in.
/// </summary>
internal sealed partial class SharedSecretFile(string path, TimeProvider time, ILogger log)
{
    public const int MinimumLength = 16;
    private static readonly TimeSpan ReadEvery = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private byte[]? _hash;
    private DateTimeOffset _readAt = DateTimeOffset.MinValue;
    private string? _problem;

    public string Path => path;

    public bool Matches(string presented)
    {
        var expected = Current();
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        return expected is not null && CryptographicOperations.FixedTimeEquals(hash, expected);
    }

    private byte[]? Current()
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (now - _readAt < ReadEvery)
                return _hash;
            _readAt = now;
            string? problem = null;
            try
            {
                var secret = File.ReadAllText(path).Trim();
                _hash = secret.Length >= MinimumLength ? SHA256.HashData(Encoding.UTF8.GetBytes(secret)) : null;
                problem = _hash is null ? $"holds fewer than {MinimumLength} characters" : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _hash = null;
                problem = "cannot be read: " + e.Message.Split('\n')[0];
            }
            if (problem is not null && problem != _problem)
                LogUnusable(log, path, problem);
            _problem = problem;
            return _hash;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "the shared secret file {Path} {Problem}; nobody gets in with a shared secret until it is fixed")]
    private static partial void LogUnusable(ILogger logger, string path, string problem);
}
