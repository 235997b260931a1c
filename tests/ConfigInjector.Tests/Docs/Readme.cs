using System.Text.RegularExpressions;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Docs;

/// <summary>
/// The top-level README.md as a user reads it: its code blocks are found by the HTML comment that marks them
/// (<c>&lt;!-- walkthrough:NAME --&gt;</c> on the line before the fence), so a test checks the text users copy.
/// </summary>
internal static partial class Readme
{
    public static string Text { get; } = File.ReadAllText(RepoPaths.Combine("README.md")).ReplaceLineEndings("\n");

    /// <summary>The content of the fenced block right after the marker, with a final newline.</summary>
    public static string Block(string name)
    {
        var marker = $"<!-- walkthrough:{name} -->\n";
        var at = Text.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
            throw new InvalidOperationException($"README.md has no {marker.Trim()}");
        if (Text.IndexOf(marker, at + 1, StringComparison.Ordinal) >= 0)
            throw new InvalidOperationException($"README.md has {marker.Trim()} twice");
        var lines = Text[(at + marker.Length)..].Split('\n');
        if (!lines[0].StartsWith("```", StringComparison.Ordinal))
            throw new InvalidOperationException($"{marker.Trim()} is not followed by a fenced block");
        var end = Array.FindIndex(lines, 1, l => l == "```");
        return string.Join("\n", lines[1..end]) + "\n";
    }

    /// <summary>The first group of the one match of <paramref name="pattern"/> in <paramref name="text"/>.</summary>
    public static string Find(string text, string pattern)
    {
        var matches = Regex.Matches(text, pattern);
        return matches.Count == 1 ? matches[0].Groups[1].Value : throw new InvalidOperationException($"expected one match of {pattern}, found {matches.Count}");
    }

    /// <summary>The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens.</summary>
    public static string Slug(string heading) =>
        string.Concat(heading.ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_')).Replace(' ', '-');

    public static IEnumerable<string> Headings()
    {
        var fenced = false;
        foreach (var line in Text.Split('\n'))
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
                fenced = !fenced;
            else if (!fenced && HeadingLine().Match(line) is { Success: true } heading)
                yield return heading.Groups[1].Value;
        }
    }

    [GeneratedRegex(@"^#{1,6} (.+)$")]
    private static partial Regex HeadingLine();
}
