using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConfigInjector.Admission;

// admission.k8s.io/v1 AdmissionReview, as described in
// https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#request
// and #response. Only the fields this webhook reads or writes; unknown fields are ignored.

internal sealed class AdmissionReview
{
    public string? ApiVersion { get; set; }
    public string? Kind { get; set; }
    public AdmissionRequest? Request { get; set; }
    public AdmissionResponse? Response { get; set; }
}

internal sealed class AdmissionRequest
{
    public string? Uid { get; set; }
    public GroupVersionKind? Kind { get; set; }
    public string? SubResource { get; set; }
    public string? Name { get; set; }
    public string? Namespace { get; set; }
    public string? Operation { get; set; }
    public UserInfo? UserInfo { get; set; }

    /// <summary>Where <c>request.object</c> lies in the body: the pod is bound from those bytes, not from a copy.</summary>
    [JsonConverter(typeof(JsonSliceConverter))]
    public JsonSlice? Object { get; set; }
    public bool? DryRun { get; set; }
}

/// <summary>A value's place in the document being read, and what kind of value it is.</summary>
internal sealed record JsonSlice(int Start, int Length, JsonTokenType Token);

/// <summary>
/// Records where a value starts and ends instead of copying it. Valid only for a document deserialized from one span
/// (token positions are then offsets into it); the value is still read through, so its depth and syntax are checked.
/// </summary>
internal sealed class JsonSliceConverter : JsonConverter<JsonSlice>
{
    public override JsonSlice Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var start = (int)reader.TokenStartIndex;
        var token = reader.TokenType;
        reader.Skip();
        return new JsonSlice(start, (int)reader.BytesConsumed - start, token);
    }

    public override void Write(Utf8JsonWriter writer, JsonSlice value, JsonSerializerOptions options) =>
        throw new NotSupportedException("a review's request is read, never written");
}

internal sealed class GroupVersionKind
{
    public string? Group { get; set; }
    public string? Version { get; set; }
    public string? Kind { get; set; }

    public override string ToString() => string.IsNullOrEmpty(Group) ? $"{Version} {Kind}" : $"{Group}/{Version} {Kind}";
}

internal sealed class UserInfo
{
    public string? Username { get; set; }
}

internal sealed class AdmissionResponse
{
    public string Uid { get; set; } = "";
    public bool Allowed { get; set; }
    public string? PatchType { get; set; }
    public string? Patch { get; set; }
    public IReadOnlyList<string>? Warnings { get; set; }
    public AdmissionStatus? Status { get; set; }
}

internal sealed class AdmissionStatus
{
    public int Code { get; set; }
    public string? Message { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = AdmissionJson.MaxDepth)]
[JsonSerializable(typeof(AdmissionReview))]
internal sealed partial class AdmissionJson : JsonSerializerContext
{
    public const int MaxDepth = 64;
}
