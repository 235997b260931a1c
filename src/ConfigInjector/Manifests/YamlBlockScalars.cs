using System.Text;
using System.Text.RegularExpressions;

namespace ConfigInjector.Manifests;

/// <summary>
/// Works around a YamlDotNet 18 scanner bug: a literal block scalar with auto-detected indentation whose first lines
/// are whitespace-only with two or more spaces (istio's <c>samples/addons/loki.yaml</c>: <c>config.yaml: |</c>, then
/// a line of four spaces) is rejected with "found extra spaces in first line", while go-yaml (what kubectl and Helm
/// read with) takes those lines as plain line breaks. Such lines are emptied exactly where go-yaml reads them as line
/// breaks (its indentation is the largest of the leading blank lines, the first content line and the parent's
/// indentation + 1; see libyaml's <c>yaml_parser_scan_block_scalar_breaks</c>), so the value is unchanged. Nothing
/// inside a scalar's body, no header with an explicit indentation digit, and no input go-yaml rejects is touched.
/// </summary>
internal static partial class YamlBlockScalars
{
    // A header at the end of a line: indicator, optional indentation/chomping, optional comment.
    private const string Header = @"[|>](?<ind>[1-9][+-]?|[+-][1-9]?)?(?:[ \t]+#.*)?[ \t]*$";
    private const string Properties = @"(?:[&!][^ \t]*[ \t]+)*";
    private const string Key =
        @"(?:""(?:[^""\\]|\\.)*""" +
        @"|'(?:[^']|'')*'" +
        @"|(?:[^-?:,\[\]{}#&*!|>'""%@`\s]|[-?:](?=[^\s,\[\]{}]))(?:[^:#\s]|:(?=\S)|(?<=\S)#|[ \t]+(?=[^\s#:]))*)";

    [GeneratedRegex(@"(?:^|[ \t])" + Header, RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex MaybeHeader();

    [GeneratedRegex(@"\G" + Properties + Key + @"[ \t]*:[ \t]+" + Properties + Header, RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex KeyedHeader();

    [GeneratedRegex(@"\G" + Properties + Header, RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex BareHeader();

    /// <summary>The text with those lines emptied; the same instance when nothing needs to change.</summary>
    public static string Normalize(string text)
    {
        if (string.IsNullOrEmpty(text) || HasUnmodelledLineBreak(text))
            return text;
        var lines = text.Split('\n');
        var blank = FindLeadingBlankLines(lines);
        if (blank is null)
            return text;
        var result = new StringBuilder(text.Length);
        for (var k = 0; k < lines.Length; k++)
        {
            if (!blank[k])
                result.Append(lines[k]);
            else if (lines[k].EndsWith('\r'))
                result.Append('\r');
            if (k < lines.Length - 1)
                result.Append('\n');
        }
        return result.ToString();
    }

    private static bool HasUnmodelledLineBreak(string text)
    {
        for (var c = 0; c < text.Length; c++)
        {
            var ch = text[c];
            if ((ch == '\r' && (c + 1 >= text.Length || text[c + 1] != '\n')) || ch is '\u0085' or '\u2028' or '\u2029')
                return true;
        }
        return false;
    }

    private static bool[]? FindLeadingBlankLines(string[] lines)
    {
        string Content(int k) => lines[k].EndsWith('\r') ? lines[k][..^1] : lines[k];
        bool[]? blank = null;
        var i = 0;
        var atDocumentStart = true;
        while (i < lines.Length)
        {
            var line = Content(i);
            var indent = LeadingSpaces(line);
            if (indent == line.Length || line[indent] == '#')
            {
                i++;
                continue;
            }
            var maybeHeader = MaybeHeader().IsMatch(line);
            if (IsDocumentMarker(line) && !maybeHeader)
            {
                atDocumentStart = true;
                i++;
                continue;
            }
            var firstNodeOfDocument = atDocumentStart;
            atDocumentStart = false;
            if (!maybeHeader)
            {
                i++;
                continue;
            }

            var (understood, root, parentIndent, explicitIndent) = ReadHeader(line, indent, firstNodeOfDocument);

            // The whitespace-only lines right after the header.
            int j = i + 1, maxSpaces = 0;
            bool hasSpaces = false, hasTab = false;
            while (j < lines.Length && IsWhitespaceOnly(Content(j)))
            {
                var w = Content(j);
                hasTab |= w.Contains('\t');
                hasSpaces |= w.Length > 0;
                maxSpaces = Math.Max(maxSpaces, w.Length);
                j++;
            }
            if (understood && !explicitIndent && hasSpaces && !hasTab)
            {
                var end = j >= lines.Length;
                var next = end ? "" : Content(j);
                var nextIndent = LeadingSpaces(next);
                var tabAfterIndent = !end && nextIndent < next.Length && next[nextIndent] == '\t';
                // go-yaml: content at nextIndent with the blank lines as breaks, or the scalar ends before the next
                // line; anything else go-yaml rejects itself, and the text is left as it is.
                if (!tabAfterIndent && (end || nextIndent >= maxSpaces || nextIndent <= parentIndent))
                {
                    blank ??= new bool[lines.Length];
                    for (var k = i + 1; k < j; k++)
                        blank[k] = Content(k).Length > 0;
                }
            }
            i = SkipBody(lines, i, root, understood, parentIndent, Content);
        }
        return blank;
    }

    /// <summary>Whether the header is one this reads fully, and the indentation of the node that holds the scalar.</summary>
    private static (bool Understood, bool Root, int ParentIndent, bool ExplicitIndent) ReadHeader(string line, int indent, bool firstNodeOfDocument)
    {
        int position = indent, lastIndicator = -1;
        var root = false;
        if (indent == 0 && line.StartsWith("---", StringComparison.Ordinal) && (line.Length == 3 || line[3] is ' ' or '\t'))
        {
            root = true;
            position = 3;
            while (position < line.Length && line[position] is ' ' or '\t')
                position++;
        }
        else
        {
            while (position + 1 < line.Length && line[position] is '-' or '?' or ':' && line[position + 1] is ' ' or '\t')
            {
                lastIndicator = position++;
                while (position < line.Length && line[position] is ' ' or '\t')
                    position++;
            }
        }
        Match match;
        if ((match = BareHeader().Match(line, position)).Success)
        {
            if (root)
                return (true, true, -1, HasDigit(match));
            if (lastIndicator >= 0)
                return (true, false, lastIndicator, HasDigit(match));
            // A bare "|" is the document's root only as its first node at column 0.
            return (firstNodeOfDocument && indent == 0, true, -1, HasDigit(match));
        }
        if (!root && (match = KeyedHeader().Match(line, position)).Success)
            return (true, false, position, HasDigit(match));
        return (false, root, -1, false);
    }

    private static bool HasDigit(Match header) => header.Groups["ind"].Value.Any(char.IsDigit);

    /// <summary>Past the scalar's possible body, so nothing inside a block scalar is ever taken for a header.</summary>
    private static int SkipBody(string[] lines, int header, bool root, bool understood, int parentIndent, Func<int, string> content)
    {
        var e = header + 1;
        if (root)
        {
            while (e < lines.Length && !IsDocumentMarker(content(e)))
                e++;
        }
        else
        {
            var deeperThan = understood ? parentIndent : 0;
            while (e < lines.Length && (IsWhitespaceOnly(content(e)) || LeadingSpaces(content(e)) > deeperThan))
                e++;
        }
        return e;
    }

    private static int LeadingSpaces(string s)
    {
        var k = 0;
        while (k < s.Length && s[k] == ' ')
            k++;
        return k;
    }

    private static bool IsWhitespaceOnly(string s) => s.All(c => c is ' ' or '\t');

    private static bool IsDocumentMarker(string s) =>
        (s.StartsWith("---", StringComparison.Ordinal) || s.StartsWith("...", StringComparison.Ordinal)) && (s.Length == 3 || s[3] is ' ' or '\t');
}
