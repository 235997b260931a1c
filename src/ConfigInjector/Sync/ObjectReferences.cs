using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>The object an Event is about.</summary>
internal static class ObjectReferences
{
    public static V1ObjectReference Of(string apiVersion, string kind, V1ObjectMeta metadata) => new()
    {
        ApiVersion = apiVersion,
        Kind = kind,
        Name = metadata.Name,
        NamespaceProperty = metadata.NamespaceProperty,
        Uid = metadata.Uid,
    };
}
