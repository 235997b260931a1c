using System.Text;

namespace ConfigInjector.TestSupport;

/// <summary>
/// A text writer the test may read from while the command writes to it; like <see cref="StringWriter"/>, its async
/// writes complete at once, in order.
/// </summary>
internal sealed class LiveWriter : TextWriter
{
    private readonly StringBuilder _text = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_text)
            _text.Append(value);
    }

    public override void Write(string? value)
    {
        lock (_text)
            _text.Append(value);
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_text)
            _text.Append(buffer, index, count);
    }

    public override void WriteLine(string? value)
    {
        lock (_text)
            _text.Append(value).Append(CoreNewLine);
    }

    public override Task WriteAsync(string? value)
    {
        Write(value);
        return Task.CompletedTask;
    }

    public override Task WriteLineAsync(string? value)
    {
        WriteLine(value);
        return Task.CompletedTask;
    }

    public override Task WriteAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return Task.CompletedTask;
    }

    public override Task WriteLineAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default)
    {
        WriteLine(buffer.Span);
        return Task.CompletedTask;
    }

    public override string ToString()
    {
        lock (_text)
            return _text.ToString();
    }
}
