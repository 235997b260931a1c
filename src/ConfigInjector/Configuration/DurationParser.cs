using System.Globalization;
using System.Text.RegularExpressions;

namespace ConfigInjector.Configuration;

/// <summary>Go-style durations as Kubernetes users write them: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h30m</c>.</summary>
internal static partial class DurationParser
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var matches = Part().Matches(text);
        if (matches.Count == 0 || string.Concat(matches.Select(m => m.Value)) != text)
            return false;
        try
        {
            foreach (Match match in matches)
            {
                var amount = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                value += match.Groups[2].Value switch
                {
                    "ms" => TimeSpan.FromMilliseconds(amount),
                    "s" => TimeSpan.FromSeconds(amount),
                    "m" => TimeSpan.FromMinutes(amount),
                    _ => TimeSpan.FromHours(amount),
                };
            }
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>The inverse of <see cref="TryParse"/>: <c>5m</c>, <c>1h30m</c>, <c>90s</c> becomes <c>1m30s</c>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1))
            return $"{(long)value.TotalMilliseconds}ms";
        var text = (value.Days * 24 + value.Hours > 0 ? $"{value.Days * 24 + value.Hours}h" : "") + (value.Minutes > 0 ? $"{value.Minutes}m" : "") + (value.Seconds > 0 ? $"{value.Seconds}s" : "");
        return string.Create(CultureInfo.InvariantCulture, $"{text}");
    }

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|s|m|h)")]
    private static partial Regex Part();
}
