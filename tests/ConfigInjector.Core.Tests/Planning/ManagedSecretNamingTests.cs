using System.Security.Cryptography;
using System.Text;
using ConfigInjector.Core.Planning;
using ConfigInjector.TestSupport.Builders;
using k8s.Models;

namespace ConfigInjector.Core.Tests.Planning;

/// <summary>
/// Managed Secret names are already stored in clusters: however the name is computed, it must stay what the first
/// implementation (kept below as the reference) gave for the same pod, namespace and keys.
/// </summary>
public class ManagedSecretNamingTests
{
    public static TheoryData<string, string, string> Cases => new()
    {
        { "web-7d9f8c6b5", "default", "DB_PASSWORD=dev:app/db#password|DB_USER=dev:app/db#user|file.sentry-dsn=dev:shared/sentry#dsn" },
        { "Web_App.V2--", "team-a", "B=dev:b|A=dev:a|file.x=template:{{ dev:x#y }}" },
        { "WebApp-7D9F", "ns", "K=dev:p#k" },
        { "-.leading-and-trailing.-", "ns", "K=dev:p#k@3" },
        { "trailing-dot.", "ns", "K=dev:p#k" },
        { "", "ns", "K=dev:p" },
        { new string('x', 300), "ns", "K=dev:p" },
        { "ünïcode-näme", "nämespace", "KÉY=dev:päth/ü#ķey|Z=dev:\ud800lone|\udc00=dev:z" },
        { "plain", "ns", "" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Names_equal_the_first_implementation(string ownerName, string podNamespace, string parts)
    {
        var pod = PodBuilder.Create().OwnedByReplicaSet(ownerName).Build();
        var keys = parts.Length == 0 ? [] : parts.Split('|').Select(p => KeyValuePair.Create(p[..p.IndexOf('=')], p[(p.IndexOf('=') + 1)..])).ToList();

        Assert.Equal(Reference(pod, podNamespace, keys), ManagedSecretNaming.NameFor(pod, podNamespace, keys));
    }

    [Fact]
    public void A_pod_without_controller_is_named_after_itself_or_its_generate_name()
    {
        var named = PodBuilder.Create("Solo_Pod").Build();
        var generated = PodBuilder.Create("x").Build();
        generated.Metadata.Name = null;
        generated.Metadata.GenerateName = "batch-run-";
        var keys = new[] { KeyValuePair.Create("K", "dev:p#k") };

        Assert.Equal(Reference(named, "ns", keys), ManagedSecretNaming.NameFor(named, "ns", keys));
        Assert.Equal(Reference(generated, "ns", keys), ManagedSecretNaming.NameFor(generated, "ns", keys));
        Assert.StartsWith("configinjector-batch-run-", ManagedSecretNaming.NameFor(generated, "ns", keys), StringComparison.Ordinal);
    }

    /// <summary>The implementation names were first made with, verbatim but for its name.</summary>
    private static string Reference(V1Pod pod, string podNamespace, IEnumerable<KeyValuePair<string, string>> keysToRefs)
    {
        var owner = pod.Metadata?.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
        var baseName = owner?.Name ?? pod.Metadata?.Name ?? pod.Metadata?.GenerateName?.TrimEnd('-') ?? "pod";
        var canonical = string.Join("\n", keysToRefs.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key}={k.Value}"));
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{podNamespace}\n{canonical}")))[..10];
        var chars = baseName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '-').ToArray();
        var clean = new string(chars).Trim('-', '.');
        if (clean.Length > 200)
            clean = clean[..200].TrimEnd('-', '.');
        return $"configinjector-{(clean.Length == 0 ? "pod" : clean)}-{hash}";
    }
}
