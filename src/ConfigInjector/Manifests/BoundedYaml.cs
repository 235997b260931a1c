using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace ConfigInjector.Manifests;

/// <summary>
/// Every YAML this program reads (manifests for <c>inject</c>, the config file, policy documents, the file backend)
/// goes through here: bounded in size and nesting, aliases bounded in what they expand to (a few hundred bytes of
/// nested aliases would otherwise stand for gigabytes), and read as kubectl reads it (<see cref="YamlBlockScalars"/>).
/// Every limit is a <see cref="YamlException"/> with a position, which callers already turn into one line.
/// </summary>
internal static class BoundedYaml
{
    public const int MaxBytes = 16 * 1024 * 1024;
    public const int MaxDepth = 128;

    /// <summary>Nodes the documents may stand for once every alias is expanded.</summary>
    public const int MaxExpandedNodes = 1_000_000;

    public static YamlStream Load(string text)
    {
        if (text.Length > MaxBytes)
            throw new YamlLimitException(Mark.Empty, Mark.Empty, $"the input is {text.Length} characters; at most {MaxBytes} are read");
        string normalized;
        try
        {
            normalized = YamlBlockScalars.Normalize(text);
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            normalized = text;
        }
        var stream = new YamlStream();
        try
        {
            stream.Load(new DepthLimitedParser(new Parser(new StringReader(normalized))));
        }
        catch (ArgumentException)
        {
            // Found by fuzzing: YamlDotNet's scanner throws ArgumentOutOfRangeException on an escaped high surrogate
            // not followed by a low one ("\ud800A"), where it should report bad input.
            throw new YamlLimitException(Mark.Empty, Mark.Empty, "an escape sequence names an invalid character (an unpaired surrogate)");
        }
        catch (InvalidOperationException)
        {
            // Also found by fuzzing (seed 1636311): the scanner's own state check fails on some malformed plain scalars.
            throw new YamlLimitException(Mark.Empty, Mark.Empty, "the YAML parser could not read this input");
        }
        // One budget for the whole stream: many small documents must not add up to what one may not be.
        var budget = MaxExpandedNodes;
        foreach (var document in stream.Documents)
            budget = CheckExpansion(document.RootNode, budget);
        return stream;
    }

    /// <summary>Walks the node graph as a consumer would, aliases included, and stops at the budget.</summary>
    private static int CheckExpansion(YamlNode root, int budget)
    {
        // Depth counts too: an alias chain can nest deeper once expanded than the text does.
        var pending = new Stack<(YamlNode Node, int Depth)>();
        pending.Push((root, 0));
        while (pending.Count > 0)
        {
            var (node, depth) = pending.Pop();
            if (--budget < 0)
                throw new YamlLimitException(node.Start, node.End, $"aliases expand to more than {MaxExpandedNodes} nodes; refusing to expand them");
            if (depth > MaxDepth)
                throw new YamlLimitException(node.Start, node.End, $"nesting deeper than {MaxDepth} levels once aliases are expanded");
            switch (node)
            {
                case YamlMappingNode mapping:
                    foreach (var (key, value) in mapping.Children)
                    {
                        pending.Push((key, depth + 1));
                        pending.Push((value, depth + 1));
                    }
                    break;
                case YamlSequenceNode sequence:
                    foreach (var child in sequence.Children)
                        pending.Push((child, depth + 1));
                    break;
            }
        }
        return budget;
    }

    /// <summary>Refuses nesting deeper than <see cref="MaxDepth"/> before the node builder recurses into it.</summary>
    private sealed class DepthLimitedParser(IParser inner) : IParser
    {
        private int _depth;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            if (!inner.MoveNext())
                return false;
            switch (inner.Current)
            {
                case MappingStart or SequenceStart when ++_depth > MaxDepth:
                    throw new YamlLimitException(inner.Current.Start, inner.Current.End, $"nesting deeper than {MaxDepth} levels");
                case MappingEnd or SequenceEnd:
                    _depth--;
                    break;
            }
            return true;
        }
    }
}

/// <summary>Input beyond a limit: its message names the limit and quotes nothing of the input, so it may be shown.</summary>
internal sealed class YamlLimitException(Mark start, Mark end, string message) : YamlException(start, end, message)
{
    /// <summary>The message for a one-line error: ours for a limit, none for the parser's own (it may quote a value).</summary>
    public static string Describe(YamlException e) => e is YamlLimitException ? $": {e.Message}" : "";
}
