using System.Globalization;
using System.Text;

namespace ConfigInjector.Report;

/// <summary>
/// Names from the cluster made safe to print on a terminal: whoever names a pod, workload or ref could otherwise move the
/// cursor, clear the screen or start a new row (ANSI escapes, CR, LF and the other C0/C1 controls) or reorder what the
/// reader sees (bidi overrides). Each such character is shown as a visible escape (<c>\x1b</c>, <c>\r</c>,
/// <c>\u202e</c>), and a backslash as <c>\\</c>, so an escape cannot be faked either.
/// </summary>
internal static class TerminalText
{
    public static string Escape(string text)
    {
        if (!text.Any(NeedsEscape))
            return text;
        var escaped = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            escaped.Append(c switch
            {
                '\\' => @"\\",
                '\n' => @"\n",
                '\r' => @"\r",
                '\t' => @"\t",
                _ when c < 0x20 || (c >= 0x7F && c <= 0x9F) => @"\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture),
                _ when IsBidiOrInvisibleFormat(c) => @"\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }
        return escaped.ToString();
    }

    private static bool NeedsEscape(char c) => c == '\\' || c < 0x20 || (c >= 0x7F && c <= 0x9F) || IsBidiOrInvisibleFormat(c);

    /// <summary>Bidi marks, embeddings, overrides and isolates, and the other format characters (zero-width ones included).</summary>
    private static bool IsBidiOrInvisibleFormat(char c) => char.GetUnicodeCategory(c) == UnicodeCategory.Format || c is '\u2028' or '\u2029';
}
