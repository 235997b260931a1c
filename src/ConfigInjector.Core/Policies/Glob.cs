namespace ConfigInjector.Core.Policies;

/// <summary>The glob dialects of policies: names (<c>*</c> any run of characters) and paths (<c>*</c> within one segment, <c>**</c> any depth).</summary>
public static class Glob
{
    /// <summary>Matches a name such as a namespace, service account or key; <c>*</c> matches any run of characters.</summary>
    public static bool MatchName(string pattern, string value) => MatchSegment(pattern.AsSpan(), value.AsSpan());

    /// <summary>Matches a '/'-separated path: <c>**</c> is zero or more whole segments, <c>*</c> stays inside one.</summary>
    public static bool MatchPath(string pattern, string path) =>
        MatchSegments(pattern.Split('/'), 0, path.Split('/'), 0);

    private static bool MatchSegments(string[] pattern, int p, string[] path, int s)
    {
        while (p < pattern.Length)
        {
            if (pattern[p] == "**")
            {
                for (var skip = s; skip <= path.Length; skip++)
                {
                    if (MatchSegments(pattern, p + 1, path, skip))
                        return true;
                }
                return false;
            }
            if (s >= path.Length || !MatchSegment(pattern[p], path[s]))
                return false;
            p++;
            s++;
        }
        return s == path.Length;
    }

    private static bool MatchSegment(ReadOnlySpan<char> pattern, ReadOnlySpan<char> value)
    {
        // Iterative wildcard match with one backtrack point: linear for the patterns policies use.
        int p = 0, v = 0, star = -1, mark = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = v;
            }
            else if (p < pattern.Length && pattern[p] == value[v])
            {
                p++;
                v++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                v = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
            p++;
        return p == pattern.Length;
    }
}
