using ConfigInjector.Policies;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Configuration;

public class PolicyFolderTests
{
    private const string Allow = """
        apiVersion: configinjector.io/v1alpha1
        kind: SecretPolicy
        metadata: { name: web }
        spec:
          subjects: { namespaces: [web] }
          rules: [{ backend: dev, paths: ["app/**"] }]
        """;

    [Fact]
    public async Task A_policy_file_added_changed_and_deleted_changes_the_next_decision()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WebhookServer.StartAsync(settings: s => s with { Time = time });
        var file = Path.Combine(server.WorkDir, "examples", "policies", "web.yaml");
        var pod = PodBuilder.Injected().InNamespace("web").WithAnnotation("configinjector.io/secret.P", "dev:app/db#password");
        (await server.ReviewPodAsync(pod, "web")).AssertDenied();

        await File.WriteAllTextAsync(file, Allow);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.True((await server.ReviewPodAsync(pod, "web")).Allowed);

        await File.WriteAllTextAsync(file, Allow.Replace("app/**", "other/**", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(5));
        time.Advance(TimeSpan.FromSeconds(2));
        (await server.ReviewPodAsync(pod, "web")).AssertDenied();

        await File.WriteAllTextAsync(file, Allow);
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(10));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.True((await server.ReviewPodAsync(pod, "web")).Allowed);

        File.Delete(file);
        time.Advance(TimeSpan.FromSeconds(2));
        (await server.ReviewPodAsync(pod, "web")).AssertDenied();
    }

    [Theory]
    [MemberData(nameof(RefusedPolicies.ReaderErrors), MemberType = typeof(RefusedPolicies))]
    public void Invalid_documents_are_reported_with_file_line_name_and_field(string yaml, string error)
    {
        var result = PolicyDocumentReader.Parse(yaml, "p.yaml");

        Assert.Empty(result.Policies);
        Assert.Empty(result.Profiles);
        Assert.Equal([error], result.Errors);
    }

    [Fact]
    public void A_bad_document_does_not_hide_the_good_ones_beside_it()
    {
        var result = PolicyDocumentReader.Parse(Allow + "\n---\nkind: Nonsense\napiVersion: configinjector.io/v1alpha1\nmetadata: { name: x }\n", "p.yaml");

        Assert.Equal("web", Assert.Single(result.Policies).Name);
        Assert.Single(result.Errors);
    }

    [Fact]
    public void The_example_policies_are_valid()
    {
        using var source = new FolderPolicySource(Path.Combine(RepoPaths.Examples, "policies"), TimeProvider.System, NullLogger<FolderPolicySource>.Instance, watch: false);

        Assert.Empty(source.LastErrors);
        Assert.Equal(["dev-apps"], source.Current.Select(p => p.Name));
        Assert.Equal(["observability", "debug"], source.Profiles.Select(p => p.Name));
    }

    /// <summary>
    /// What <c>kubectl get secretpolicies,configprofiles -o yaml</c> prints (kubectl 1.30: a v1 List, server-set
    /// metadata, the last-applied annotation), with one invalid object among them.
    /// </summary>
    private const string KubectlList = """
        apiVersion: v1
        items:
        - apiVersion: configinjector.io/v1alpha1
          kind: SecretPolicy
          metadata:
            annotations:
              kubectl.kubernetes.io/last-applied-configuration: |
                {"apiVersion":"configinjector.io/v1alpha1","kind":"SecretPolicy","metadata":{"annotations":{},"name":"shop"}}
            creationTimestamp: "2026-11-26T12:00:00Z"
            generation: 1
            name: shop
            resourceVersion: "4711"
            uid: 6a3c9a8e-2f0b-4c1e-9d55-1b2f3e4d5a6b
          spec:
            rules:
            - backend: vault-prod
              paths:
              - secret/shop/**
            subjects:
              namespaces:
              - shop
        - apiVersion: configinjector.io/v1alpha1
          kind: SecretPolicy
          metadata:
            name: broken
            resourceVersion: "4712"
          spec:
            rules:
            - backend: vault-prod
              paths:
              - /secret/broken
            subjects:
              namespaces:
              - shop
        - apiVersion: configinjector.io/v1alpha1
          kind: ConfigProfile
          metadata:
            name: shop-defaults
            resourceVersion: "4713"
          spec:
            env:
              LOG_FORMAT: json
            selector:
              namespaces:
              - shop
        kind: List
        metadata:
          resourceVersion: ""
        """;

    [Fact]
    public void The_list_kubectl_prints_is_read_item_by_item()
    {
        var result = PolicyDocumentReader.Parse(KubectlList, "all.yaml");

        Assert.Equal(["shop"], result.Policies.Select(p => p.Name));
        Assert.Equal(["shop-defaults"], result.Profiles.Select(p => p.Name));
        Assert.Equal(["SecretPolicy broken: all.yaml:31:7: spec.rules[0].paths: \"/secret/broken\" must be a path glob like secret/payments/** (no leading '/', no empty segment)"], result.Errors);
    }

    [Fact]
    public async Task Policy_check_reads_a_folder_holding_kubectls_list()
    {
        var folder = ScratchDirectory.Create();
        await File.WriteAllTextAsync(Path.Combine(folder, "all.yaml"), KubectlList);

        var (code, output, stderr) = await CliRunner.RunAsync("policy", "check", "--policies", folder, "--namespace", "shop", "vault-prod:secret/shop/db#password");

        Assert.Equal(0, code);
        Assert.StartsWith("allowed  vault-prod:secret/shop/db#password  by SecretPolicy shop rules[0]", output, StringComparison.Ordinal);
        Assert.Contains("warning: ignored: SecretPolicy broken: ", stderr, StringComparison.Ordinal);
    }
}
