using System.Text;
using ConfigInjector.Sync;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// Lines of a watch stream, each at most <see cref="MaxLineChars"/>: one event holds one object, and however the
/// stream arrives (a proxy in between included), a line that never ends must not grow a string without bound.
/// </summary>
internal sealed class BoundedLineReader(TextReader reader, string resource)
{
    /// <summary>Characters of one event: an object is at most a few MiB (a Secret's data is under 1 MiB, 1.4 MB as base64).</summary>
    public const int MaxLineChars = StreamingList.MaxItemBytes;

    private readonly char[] _chunk = new char[16 * 1024];
    private readonly StringBuilder _line = new();
    private int _start;
    private int _end;

    /// <summary>The next line without its end, or null at the end of the stream.</summary>
    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        _line.Clear();
        while (true)
        {
            var newline = Array.IndexOf(_chunk, '\n', _start, _end - _start);
            var take = (newline < 0 ? _end : newline) - _start;
            if (_line.Length + take > MaxLineChars)
                throw new ClusterApiException(null, $"Kubernetes API sent a {resource} watch event over {MaxLineChars / 1024 / 1024} MiB; refused");
            _line.Append(_chunk, _start, take);
            if (newline >= 0)
            {
                _start = newline + 1;
                return TrimCarriageReturn();
            }
            _start = 0;
            _end = await reader.ReadAsync(_chunk, cancellationToken);
            if (_end == 0)
                return _line.Length > 0 ? TrimCarriageReturn() : null;
        }
    }

    private string TrimCarriageReturn()
    {
        if (_line.Length > 0 && _line[^1] == '\r')
            _line.Length--;
        return _line.ToString();
    }
}
