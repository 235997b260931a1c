using System.Text;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Text;

namespace ConfigInjector.Core.Templates;

/// <summary>
/// The template language of <c>template.</c> and <c>file-template.</c>: text with <c>${&lt;ref&gt;}</c> and
/// <c>${&lt;ref&gt; | &lt;filter&gt; | …}</c> placeholders; <c>$${</c> is a literal <c>${</c>. Nothing else is
/// special: no loops, no conditions, no functions, no file or network access. A mistake is one line naming the column.
/// </summary>
public static class TemplateParser
{
    /// <summary>Characters of template text, about what fits comfortably in an annotation.</summary>
    public const int MaxLength = 16 * 1024;

    /// <summary>Placeholders in one template: each is a ref checked against every policy and read from a backend.</summary>
    public const int MaxPlaceholders = 64;

    /// <summary>Filters on one placeholder: more than a few only repeat themselves.</summary>
    public const int MaxFilters = 8;

    private static readonly Dictionary<string, TemplateFilter> Filters = new(StringComparer.Ordinal)
    {
        ["urlencode"] = TemplateFilter.UrlEncode,
        ["base64"] = TemplateFilter.Base64,
        ["json"] = TemplateFilter.Json,
        ["trim"] = TemplateFilter.Trim,
    };

    public const string FilterNames = "urlencode, base64, json, trim";

    public static Result<Template> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return Result.Fail<Template>("the template is empty");
        if (text.Length > MaxLength)
            return Result.Fail<Template>($"the template is {text.Length} characters long; at most {MaxLength} are allowed");

        var parts = new List<TemplatePart>();
        var literal = new StringBuilder();
        var placeholders = 0;
        var i = 0;
        // Where a placeholder starts, for messages: "column C" on the first line, "line L, column C" after it
        // (file-template texts run over many lines).
        var line = 1;
        var lineStart = 0;
        while (i < text.Length)
        {
            if (text[i] == '$' && At(text, i + 1, "${"))
            {
                literal.Append("${");
                i += 3;
                continue;
            }
            if (text[i] != '$' || !At(text, i + 1, "{"))
            {
                if (text[i] == '\n')
                    (line, lineStart) = (line + 1, i + 1);
                literal.Append(text[i]);
                i++;
                continue;
            }

            var column = line == 1 ? $"column {i + 1}" : $"line {line}, column {i - lineStart + 1}";
            var close = text.IndexOf('}', i + 2);
            if (close < 0)
                return Fail($"{column}: '${{' is not closed by '}}'");
            if (++placeholders > MaxPlaceholders)
                return Fail($"{column}: more than {MaxPlaceholders} placeholders; at most {MaxPlaceholders} are allowed");
            var placeholder = ParsePlaceholder(text[(i + 2)..close], column);
            if (!placeholder.IsOk)
                return Fail(placeholder.Error!);
            if (literal.Length > 0)
            {
                parts.Add(new Literal(literal.ToString()));
                literal.Clear();
            }
            parts.Add(placeholder.Value!);
            for (var j = i; j < close; j++)
            {
                if (text[j] == '\n')
                    (line, lineStart) = (line + 1, j + 1);
            }
            i = close + 1;
        }
        if (literal.Length > 0)
            parts.Add(new Literal(literal.ToString()));
        if (placeholders == 0)
            return Fail("the template has no ${<ref>} placeholder; a constant needs no template");
        return Result.Ok(new Template(parts));
    }

    private static Result<Placeholder> ParsePlaceholder(string body, string column)
    {
        var pieces = body.Split('|');
        var reference = pieces[0].Trim();
        if (reference.Length == 0)
            return Result.Fail<Placeholder>($"{column}: the placeholder is empty; expected ${{{ReferenceParser.Grammar}}}");
        if (reference.Contains("${", StringComparison.Ordinal))
            return Result.Fail<Placeholder>($"{column}: placeholders do not nest");
        var parsed = ReferenceParser.Parse(reference);
        if (!parsed.IsOk)
            return Result.Fail<Placeholder>($"{column}: {parsed.Error}");
        if (pieces.Length - 1 > MaxFilters)
            return Result.Fail<Placeholder>($"{column}: {pieces.Length - 1} filters; at most {MaxFilters} are allowed on one placeholder");
        var filters = new List<TemplateFilter>();
        foreach (var piece in pieces.Skip(1))
        {
            var name = piece.Trim();
            if (!Filters.TryGetValue(name, out var filter))
            {
                return Result.Fail<Placeholder>(name.Length == 0
                    ? $"{column}: a '|' with no filter after it; expected one of {FilterNames}"
                    : $"{column}: unknown filter '{Quote.Short(name, 40)}'; expected one of {FilterNames}");
            }
            filters.Add(filter);
        }
        return Result.Ok(new Placeholder(parsed.Value!, filters, column));
    }

    private static bool At(string text, int index, string expected) =>
        index + expected.Length <= text.Length && string.CompareOrdinal(text, index, expected, 0, expected.Length) == 0;

    private static Result<Template> Fail(string error) => Result.Fail<Template>(error);
}
