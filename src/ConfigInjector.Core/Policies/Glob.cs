namespace ConfigInjector.Core.Policies;

/// <summary>The glob dialects of policies: names (<c>*</c> any run of characters) and paths (<c>*</c> within one segment, <c>**</c> any depth).</summary>
public static class Glob
{
    /// <summary>Matches a name such as a namespace, service account or key; <c>*</c> matches any run of characters.</summary>
    public static bool MatchName(string pattern, string value) => MatchSegment(pattern.AsSpan(), value.AsSpan());

    /// <summary>Matches a '/'-separated path: <c>**</c> is zero or more whole segments, <c>*</c> stays inside one.</summary>
    public static bool MatchPath(string pattern, string path)
    {
        // Segments as ranges, on the stack for the paths policies and refs have: every admission matches each ref.
        var patternCount = pattern.AsSpan().Count('/') + 1;
        var pathCount = path.AsSpan().Count('/') + 1;
        var patternSegments = patternCount <= 32 ? stackalloc Range[patternCount] : new Range[patternCount];
        var pathSegments = pathCount <= 32 ? stackalloc Range[pathCount] : new Range[pathCount];
        pattern.AsSpan().Split(patternSegments, '/');
        path.AsSpan().Split(pathSegments, '/');
        return MatchSegments(pattern, patternSegments, path, pathSegments);
    }

    // The wildcard algorithm with one backtrack point, over segments: O(pattern × path) segment matches however
    // many "**" a pattern holds (a recursive search is exponential in them).
    private static bool MatchSegments(ReadOnlySpan<char> patternText, ReadOnlySpan<Range> pattern, ReadOnlySpan<char> pathText, ReadOnlySpan<Range> path)
    {
        int p = 0, s = 0, star = -1, mark = 0;
        while (s < path.Length)
        {
            if (p < pattern.Length && patternText[pattern[p]] is "**")
            {
                star = p++;
                mark = s;
            }
            else if (p < pattern.Length && MatchSegment(patternText[pattern[p]], pathText[path[s]]))
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
        while (p < pattern.Length && patternText[pattern[p]] is "**")
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
