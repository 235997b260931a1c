namespace ConfigInjector.Core.Text;

/// <summary>Quoting user input in one-line messages without letting a hostile input make the message huge.</summary>
public static class Quote
{
    public const int DefaultLimit = 200;

    /// <summary>The text, cut to <paramref name="limit"/> characters with the full length said when cut.</summary>
    public static string Short(string text, int limit = DefaultLimit) =>
        text.Length <= limit ? text : $"{text[..limit]}… ({text.Length} characters)";
}
