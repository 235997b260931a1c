using System.Collections;

namespace ConfigInjector.Admission;

/// <summary>
/// The scope every line logged while deciding carries (namespace, pod, uid): three fields in place of a dictionary,
/// and the text form made only when a formatter writes it.
/// </summary>
internal sealed class AdmissionLogScope(string @namespace, string? pod, string uid) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 3;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("namespace", @namespace),
        1 => new("pod", pod),
        2 => new("uid", uid),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
            yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"namespace={@namespace} pod={pod} uid={uid}";
}
