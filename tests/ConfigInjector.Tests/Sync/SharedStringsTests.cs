using ConfigInjector.Core.Planning;
using ConfigInjector.Sync;
using k8s;
using k8s.Models;

namespace ConfigInjector.Tests.Sync;

/// <summary>The leader keeps every managed Secret: strings that Secrets repeat are held once, values unique to one Secret are not pooled.</summary>
public class SharedStringsTests
{
    [Fact]
    public void Two_secrets_as_listed_share_their_repeated_strings_and_keep_their_own_content()
    {
        var strings = new SharedStrings();
        var first = strings.Share(Listed("app-1", "uid-1"));
        var second = strings.Share(Listed("app-2", "uid-2"));

        Assert.Same(first.Metadata.NamespaceProperty, second.Metadata.NamespaceProperty);
        Assert.Same(first.Metadata.Annotations[ManagedSecretFactory.SourcesAnnotation], second.Metadata.Annotations[ManagedSecretFactory.SourcesAnnotation]);
        Assert.Same(first.Metadata.Annotations.Keys.Single(k => k == ManagedSecretFactory.SignatureAnnotation), second.Metadata.Annotations.Keys.Single(k => k == ManagedSecretFactory.SignatureAnnotation));
        Assert.Same(first.Metadata.Labels["app.kubernetes.io/managed-by"], second.Metadata.Labels["app.kubernetes.io/managed-by"]);
        Assert.Same(first.Metadata.OwnerReferences[0].Kind, second.Metadata.OwnerReferences[0].Kind);
        Assert.Same(first.Data.Keys.Single(), second.Data.Keys.Single());
        // Equal content, still: what the worker plans and verifies against.
        Assert.Equal(KubernetesJson.Serialize(Listed("app-1", "uid-1")), KubernetesJson.Serialize(first));
    }

    [Fact]
    public void The_signature_and_signed_owners_are_never_pooled_and_the_pool_stops_at_its_budget()
    {
        var strings = new SharedStrings(budgetChars: 16);
        var a = new string('x', 10);
        var b = new string('y', 10);

        Assert.Same(a, strings.Share(a));
        Assert.Same(b, strings.Share(b));
        Assert.NotSame(b, strings.Share(new string('y', 10)));
        Assert.Same(a, strings.Share(new string('x', 10)));

        var pool = new SharedStrings();
        var first = pool.Share(Listed("app-1", "uid-1"));
        var again = pool.Share(Listed("app-1", "uid-1"));
        Assert.NotSame(first.Metadata.Annotations[ManagedSecretFactory.SignatureAnnotation], again.Metadata.Annotations[ManagedSecretFactory.SignatureAnnotation]);
        Assert.NotSame(first.Metadata.Annotations[ManagedSecretFactory.OwnersAnnotation], again.Metadata.Annotations[ManagedSecretFactory.OwnersAnnotation]);
    }

    /// <summary>A Secret as the API server lists it: every string a fresh copy, as deserialization makes them.</summary>
    private static V1Secret Listed(string name, string ownerUid) => KubernetesJson.Deserialize<V1Secret>($$$"""
        {"apiVersion":"v1","kind":"Secret","type":"Opaque",
         "metadata":{"name":"{{{name}}}","namespace":"shop","uid":"{{{ownerUid}}}-s",
           "labels":{"app.kubernetes.io/managed-by":"config-injector"},
           "annotations":{"{{{ManagedSecretFactory.SourcesAnnotation}}}":"{\"DB\":{\"ref\":\"vault:secret/shop/db#password\",\"version\":\"3\"}}",
             "{{{ManagedSecretFactory.SignatureAnnotation}}}":"c2lnbmF0dXJl","{{{ManagedSecretFactory.OwnersAnnotation}}}":"[{\"uid\":\"{{{ownerUid}}}\"}]"},
           "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"{{{name}}}-rs","uid":"{{{ownerUid}}}","controller":true}]},
         "data":{"DB":"c2VjcmV0"}}
        """);
}
