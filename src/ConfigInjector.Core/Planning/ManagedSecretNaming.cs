using System.Security.Cryptography;
using System.Text;
using k8s.Models;

namespace ConfigInjector.Core.Planning;

/// <summary>
/// Deterministic managed Secret names: pods of one ReplicaSet asking for the same refs share one Secret,
/// and admitting the same pod twice names the same Secret.
/// </summary>
public static class ManagedSecretNaming
{
    private const string Prefix = "configinjector-";
    private const int MaxBaseLength = 200;

    public static string NameFor(V1Pod pod, string podNamespace, IEnumerable<KeyValuePair<string, string>> keysToRefs)
    {
        var owner = pod.Metadata?.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
        var baseName = owner?.Name ?? pod.Metadata?.Name ?? pod.Metadata?.GenerateName?.TrimEnd('-') ?? "pod";
        var canonical = string.Join("\n", keysToRefs.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key}={k.Value}"));
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{podNamespace}\n{canonical}")))[..10];
        return $"{Prefix}{Sanitize(baseName)}-{hash}";
    }

    private static string Sanitize(string name)
    {
        var chars = name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '-').ToArray();
        var clean = new string(chars).Trim('-', '.');
        if (clean.Length > MaxBaseLength)
            clean = clean[..MaxBaseLength].TrimEnd('-', '.');
        return clean.Length == 0 ? "pod" : clean;
    }
}
