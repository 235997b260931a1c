using System.Text;

namespace ConfigInjector.Core.Annotations;

/// <summary>
/// Kubernetes' own limits on annotations (apimachinery <c>ValidateAnnotations</c>: the name part of a qualified key
/// is at most 63 characters; keys and values together at most 256 KiB). A pod beyond them would be refused by the
/// API server anyway, so an opted-in pod beyond them is denied before any work that grows with their size.
/// </summary>
public static class AnnotationLimits
{
    public const int MaxNameLength = 63;
    public const int MaxTotalBytes = 256 * 1024;

    /// <summary>Why the annotations break a limit, or null. Linear in their size.</summary>
    public static string? Check(IReadOnlyDictionary<string, string>? annotations)
    {
        if (annotations is null)
            return null;
        long total = 0;
        foreach (var (key, value) in annotations)
        {
            total += Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value ?? "");
            if (key.StartsWith(AnnotationKeys.Prefix, StringComparison.Ordinal) && key.Length - AnnotationKeys.Prefix.Length > MaxNameLength)
                return $"annotation {Text.Quote.Short(key, 80)} has a name of {key.Length - AnnotationKeys.Prefix.Length} characters after {AnnotationKeys.Prefix}; Kubernetes allows {MaxNameLength}";
        }
        return total > MaxTotalBytes ? $"the pod's annotations take {total} bytes; Kubernetes allows {MaxTotalBytes}" : null;
    }
}
