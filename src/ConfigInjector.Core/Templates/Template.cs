using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Templates;

/// <summary>A parsed template: literal text and placeholders, in order.</summary>
public sealed record Template(IReadOnlyList<TemplatePart> Parts)
{
    /// <summary>Every ref the template reads, each once, in order of first use: each passes the SecretPolicies on its own.</summary>
    public IReadOnlyList<SecretReference> Refs { get; } = [.. Parts.OfType<Placeholder>().Select(p => p.Ref).Distinct()];
}

public abstract record TemplatePart;

public sealed record Literal(string Text) : TemplatePart;

/// <summary><c>${ref | filter | …}</c>; <paramref name="At"/> says where its <c>${</c> starts ("column 12", "line 3, column 5"), for messages.</summary>
public sealed record Placeholder(SecretReference Ref, IReadOnlyList<TemplateFilter> Filters, string At) : TemplatePart;

/// <summary>What a placeholder may do to a value before it is put in: nothing else, no code, no lookups.</summary>
public enum TemplateFilter
{
    /// <summary>Percent-encoded as an RFC 3986 URI component: every byte but the unreserved characters.</summary>
    UrlEncode,

    /// <summary>The UTF-8 bytes in standard base64, with padding.</summary>
    Base64,

    /// <summary>A JSON string literal, quotes included.</summary>
    Json,

    /// <summary>Leading and trailing white space removed.</summary>
    Trim,
}
