using k8s;
using k8s.Models;

namespace ConfigInjector.TestSupport.Builders;

/// <summary>Short pod fixtures: <c>PodBuilder.Create("web").WithAnnotation(…).WithContainer("app")</c>.</summary>
public sealed class PodBuilder
{
    private readonly V1Pod _pod;

    private PodBuilder(string name)
    {
        _pod = new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
            Spec = new V1PodSpec { Containers = [] },
        };
    }

    public static PodBuilder Create(string name = "web") => new(name);

    /// <summary>An opted-in pod with one container named "app".</summary>
    public static PodBuilder Injected(string name = "web") => Create(name).WithAnnotation("configinjector.io/inject", "true").WithContainer("app");

    public PodBuilder InNamespace(string @namespace)
    {
        _pod.Metadata.NamespaceProperty = @namespace;
        return this;
    }

    public PodBuilder WithLabel(string key, string value)
    {
        _pod.Metadata.Labels ??= new Dictionary<string, string>();
        _pod.Metadata.Labels[key] = value;
        return this;
    }

    public PodBuilder WithServiceAccount(string name)
    {
        _pod.Spec.ServiceAccountName = name;
        return this;
    }

    public PodBuilder WithAnnotation(string key, string value)
    {
        _pod.Metadata.Annotations ??= new Dictionary<string, string>();
        _pod.Metadata.Annotations[key] = value;
        return this;
    }

    public PodBuilder WithContainer(string name, params (string Name, string Value)[] env)
    {
        _pod.Spec.Containers.Add(Container(name, env));
        return this;
    }

    public PodBuilder WithInitContainer(string name, params (string Name, string Value)[] env)
    {
        _pod.Spec.InitContainers ??= [];
        _pod.Spec.InitContainers.Add(Container(name, env));
        return this;
    }

    public PodBuilder WithVolume(string name)
    {
        _pod.Spec.Volumes ??= [];
        _pod.Spec.Volumes.Add(new V1Volume { Name = name, EmptyDir = new V1EmptyDirVolumeSource() });
        return this;
    }

    public PodBuilder WithOwner(V1OwnerReference owner)
    {
        _pod.Metadata.OwnerReferences = [owner];
        if (string.IsNullOrEmpty(_pod.Metadata.Name))
        {
            _pod.Metadata.Name = null;
            _pod.Metadata.GenerateName = owner.Name + "-";
        }
        return this;
    }

    public PodBuilder OwnedByReplicaSet(string name)
    {
        _pod.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = name, Uid = Guid.NewGuid().ToString(), BlockOwnerDeletion = true, Controller = true }];
        return this;
    }

    public V1Pod Build() => _pod;

    public string ToJson() => KubernetesJson.Serialize(_pod);

    private static V1Container Container(string name, (string Name, string Value)[] env) => new()
    {
        Name = name,
        Image = "registry.example/" + name + ":1",
        Env = env.Length == 0 ? null : [.. env.Select(e => new V1EnvVar { Name = e.Name, Value = e.Value })],
    };
}
