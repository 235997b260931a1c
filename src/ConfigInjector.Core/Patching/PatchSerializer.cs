using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConfigInjector.Core.Patching;

public static class PatchSerializer
{
    public static byte[] ToJsonBytes(IReadOnlyList<PatchOperation> ops)
    {
        var array = new JsonArray();
        foreach (var op in ops)
        {
            var node = new JsonObject { ["op"] = op.Op, ["path"] = op.Path };
            if (op.Value is not null)
                node["value"] = op.Value.DeepClone();
            array.Add(node);
        }
        return JsonSerializer.SerializeToUtf8Bytes(array);
    }
}
