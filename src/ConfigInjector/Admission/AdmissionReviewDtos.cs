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
    public JsonElement? Object { get; set; }
    public bool? DryRun { get; set; }
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
