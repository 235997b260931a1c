using System.Text;
using Microsoft.AspNetCore.JsonPatch;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ConfigInjector.TestSupport;

/// <summary>
/// Applies an RFC 6902 patch with an implementation this project did not write (Microsoft.AspNetCore.JsonPatch),
/// so tests check what the API server would store, not what our builder meant.
/// </summary>
public static class PatchOracle
{
    public static JObject Apply(string documentJson, byte[] patchJson)
    {
        var document = JObject.Parse(documentJson);
        var patch = JsonConvert.DeserializeObject<JsonPatchDocument>(Encoding.UTF8.GetString(patchJson))!;
        patch.ApplyTo(document);
        return document;
    }
}
