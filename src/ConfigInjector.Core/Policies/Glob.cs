namespace ConfigInjector.Core.Policies;

/// <summary>The glob dialects of policies: names (<c>*</c> any run of characters) and paths (<c>*</c> within one segment, <c>**</c> any depth).</summary>
public static class Glob
{
    /// <summary>Matches a name such as a namespace, service account or key; <c>*</c> matches any run of characters.</summary>
    public static bool MatchName(string pattern, string value) => MatchSegment(pattern.AsSpan(), value.AsSpan());

    /// <summary>Matches a '/'-separated path: <c>**</c> is zero or more whole segments, <c>*</c> stays inside one.</summary>
    public static bool MatchPath(string pattern, string path) => MatchSegments(pattern.Split('/'), path.Split('/'));

    // The wildcard algorithm with one backtrack point, over segments: O(pattern × path) segment matches however
    // many "**" a pattern holds (a recursive search is exponential in them).
    private static bool MatchSegments(string[] pattern, string[] path)
    {
        int p = 0, s = 0, star = -1, mark = 0;
        while (s < path.Length)
        {
            if (p < pattern.Length && pattern[p] == "**")
            {
                star = p++;
                mark = s;
            }
            else if (p < pattern.Length && MatchSegment(pattern[p], path[s]))
            {
                p++;
                s++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                s = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == "**")
            p++;
        return p == pattern.Length;
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
