using ConfigInjector.Admission;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.Templates;
using k8s;
using k8s.Models;

namespace ConfigInjector.Tests.Admission;

/// <summary>
/// The pods of a rollout share one managed Secret, built and signed once; a reused Secret is only as good as the
/// comparison that allowed the reuse, so every field the Secret is made of must make a new one when it changes.
/// </summary>
public class SignedSecretMemoTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

    private static ManagedSecretSpec Spec(
        string value = "s3cr3t-v1", string version = "3", string @ref = "vault:secret/db#password", string serviceAccount = "api",
        string ownerUid = "rs-uid", TimeSpan? interval = null, RotationMode onChange = RotationMode.Restart, string? template = "postgres://u:${vault:secret/db#password}@db",
        string composedVersion = "3", FileFormat? format = null, string? extraKey = null) =>
        new(
            "configinjector-web-1", "shop",
            new Dictionary<string, string> { ["DB"] = value, ["URL"] = $"postgres://u:{value}@db" }.Concat(extraKey is null ? [] : [KeyValuePair.Create(extraKey, "x")]).ToDictionary(),
            new Dictionary<string, KeySource> { ["DB"] = new(@ref, version) },
            new RotationSettings(interval ?? TimeSpan.FromMinutes(5), onChange),
            new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "web-1", Uid = ownerUid, Controller = true },
            serviceAccount)
        {
            Composed = new Dictionary<string, ComposedSource> { ["URL"] = new(template, null, format, new Dictionary<string, string> { ["vault:secret/db#password"] = composedVersion }) },
        };

    [Fact]
    public void The_next_pod_of_an_owner_gets_the_secret_the_first_one_built()
    {
        var memo = new SignedSecretMemo();
        var first = memo.GetOrCreate(Spec(), Key);

        Assert.Same(first, memo.GetOrCreate(Spec(), Key));
        Assert.Equal(KubernetesJson.Serialize(ManagedSecretFactory.Create(Spec(), Key)), KubernetesJson.Serialize(first));
    }

    public static TheoryData<string, ManagedSecretSpec> Changes => new()
    {
        { "a value", Spec(value: "s3cr3t-v2") },
        { "a version", Spec(version: "4") },
        { "a ref", Spec(@ref: "vault:secret/other#password") },
        { "the service account", Spec(serviceAccount: "admin") },
        { "the owner", Spec(ownerUid: "rs-uid-2") },
        { "the rotation interval", Spec(interval: TimeSpan.FromMinutes(1)) },
        { "what a change does", Spec(onChange: RotationMode.None) },
        { "a template", Spec(template: "mysql://u:${vault:secret/db#password}@db") },
        { "a composed key's versions", Spec(composedVersion: "4") },
        { "a composed key's format", Spec(format: FileFormat.Json) },
        { "one more key", Spec(extraKey: "EXTRA") },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void A_change_to_any_field_builds_and_signs_a_new_secret(string change, ManagedSecretSpec changed)
    {
        var memo = new SignedSecretMemo();
        var before = memo.GetOrCreate(Spec(), Key);

        var after = memo.GetOrCreate(changed, Key);

        Assert.NotSame(before, after);
        Assert.True(KubernetesJson.Serialize(ManagedSecretFactory.Create(changed, Key)) == KubernetesJson.Serialize(after), $"{change}: the Secret is not the one the new content makes");
    }

    [Fact]
    public void A_new_signing_key_signs_again()
    {
        var memo = new SignedSecretMemo();
        memo.GetOrCreate(Spec(), Key);
        var newKey = Key.Select(b => (byte)(b + 1)).ToArray();

        var secret = memo.GetOrCreate(Spec(), newKey);

        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(SigningKeys.Single(newKey), secret));
    }

    [Fact]
    public void A_burst_of_owners_stays_within_the_bound()
    {
        var memo = new SignedSecretMemo(capacity: 10);
        for (var i = 0; i < 25; i++)
            memo.GetOrCreate(Spec(ownerUid: $"rs-{i}") with { Name = $"configinjector-web-{i}" }, Key);

        Assert.InRange(memo.Count, 1, 10);
    }
}
