using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Templates;

/// <summary>Fills a parsed template with values; a value is never in a message, only the ref it came from.</summary>
public static class TemplateRenderer
{
    /// <summary>Characters of one rendered value or file: a managed Secret holds at most 1 MiB in all.</summary>
    public const int MaxRenderedLength = 64 * 1024;

    public const string BudgetExhausted = "the render budget is spent";

    /// <param name="valueOf">The value of a ref, or null when it has none (the caller reports why).</param>
    /// <param name="budget">Charged with every character a filter reads (before) and writes, and the output takes.</param>
    public static Result<string> Render(Template template, Func<SecretReference, string?> valueOf, RenderBudget? budget = null)
    {
        var output = new StringBuilder();
        foreach (var part in template.Parts)
        {
            switch (part)
            {
                case Literal literal:
                    if (budget?.TryCharge(literal.Text.Length) == false)
                        return Result.Fail<string>(BudgetExhausted);
                    output.Append(literal.Text);
                    break;
                case Placeholder placeholder:
                    if (valueOf(placeholder.Ref) is not { } value)
                        return Result.Fail<string>($"{placeholder.At}: {placeholder.Ref} has no value");
                    // Each filter can grow the text (json doubles backslashes, urlencode triples '%'): stop at the
                    // first step past the limit instead of building what a chain of them would make.
                    // No filter but trim shrinks a value: one already past the limit fails before any work is done on it.
                    foreach (var filter in placeholder.Filters)
                    {
                        if (value.Length > MaxRenderedLength && filter != TemplateFilter.Trim)
                            return Result.Fail<string>($"the rendered text is longer than {MaxRenderedLength} characters");
                        if (budget?.TryCharge(value.Length) == false)
                            return Result.Fail<string>(BudgetExhausted);
                        value = Apply(value, filter);
                        if (budget?.TryCharge(value.Length) == false)
                            return Result.Fail<string>(BudgetExhausted);
                        if (value.Length > MaxRenderedLength)
                            return Result.Fail<string>($"the rendered text is longer than {MaxRenderedLength} characters");
                    }
                    if (output.Length + value.Length > MaxRenderedLength)
                        return Result.Fail<string>($"the rendered text is longer than {MaxRenderedLength} characters");
                    if (budget?.TryCharge(value.Length) == false)
                        return Result.Fail<string>(BudgetExhausted);
                    output.Append(value);
                    break;
            }
            if (output.Length > MaxRenderedLength)
                return Result.Fail<string>($"the rendered text is longer than {MaxRenderedLength} characters");
        }
        return Result.Ok(output.ToString());
    }

    public static string Apply(string value, TemplateFilter filter) => filter switch
    {
        // Uri.EscapeDataString keeps exactly RFC 3986's unreserved set (ALPHA DIGIT - . _ ~) and encodes UTF-8 bytes.
        TemplateFilter.UrlEncode => Uri.EscapeDataString(value),
        TemplateFilter.Base64 => Convert.ToBase64String(Encoding.UTF8.GetBytes(value)),
        TemplateFilter.Json => JsonString(value),
        TemplateFilter.Trim => value.Trim(),
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, null),
    };

    // Non-ASCII text stays readable; quotes, backslashes and control characters are escaped as JSON requires.
    private static readonly JsonWriterOptions JsonStringOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string JsonString(string value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(value.Length + 2);
        using (var writer = new Utf8JsonWriter(buffer, JsonStringOptions))
            writer.WriteStringValue(value);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
