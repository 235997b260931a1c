using System.Text.Json;
using ConfigInjector.Sync;
using k8s;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// A list page read one item at a time: <c>{"metadata": {"resourceVersion", "continue"}, "items": [...]}</c>
/// (https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks) is parsed as
/// it arrives and each item handed to <c>keep</c> before the next is read, so what a page costs in memory is one item,
/// not the page. Anyone who may create a labelled Secret decides how large the items of a managed-Secret list are.
/// </summary>
internal static class StreamingList
{
    /// <summary>Bytes of one item at most: a Secret's data is under 1 MiB (1.4 MB as base64) and its metadata under 512 KiB.</summary>
    public const int MaxItemBytes = 4 * 1024 * 1024;

    public static async Task<ListPage<T>> ReadAsync<T>(
        IKubernetes client, string collectionPath, string resource, string? labelSelector, string? continueToken, int limit,
        Func<JsonElement, T> parse, CancellationToken cancellationToken)
    {
        var uri = $"{collectionPath}?limit={limit}"
            + (labelSelector is null ? "" : "&labelSelector=" + Uri.EscapeDataString(labelSelector))
            + (continueToken is null ? "" : "&continue=" + Uri.EscapeDataString(continueToken));
        using var response = await RawRequest.SendAsync(client, uri, "list", resource, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        try
        {
            return await new Scanner<T>(stream, parse, resource).ReadAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new ClusterApiException(null, KubernetesErrors.Describe(null, e.Message, "list", resource, null), e);
        }
        catch (JsonException e)
        {
            throw new ClusterApiException(null, $"Kubernetes API sent a {resource} list that is not valid JSON: {e.Message}", e);
        }
    }

    private sealed class Scanner<T>(Stream stream, Func<JsonElement, T> parse, string resource)
    {
        private byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;
        private bool _final;
        private JsonReaderState _state;
        private readonly List<T> _items = [];
        private string? _resourceVersion;
        private string? _continue;

        public async Task<ListPage<T>> ReadAsync(CancellationToken cancellationToken)
        {
            while (!Step())
            {
                if (_final)
                    throw new JsonException("the answer ended before the list did");
                await FillAsync(cancellationToken);
            }
            return new ListPage<T>(_items, _resourceVersion, string.IsNullOrEmpty(_continue) ? null : _continue);
        }

        /// <summary>Reads what the buffer holds; true at the end of the list, false when it needs more bytes.</summary>
        private bool Step()
        {
            var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _final, _state);
            var property = _property;
            while (true)
            {
                var before = reader.CurrentState;
                var consumedBefore = reader.BytesConsumed;
                if (!reader.Read())
                    return Suspend(before, consumedBefore);
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName when reader.CurrentDepth == 1:
                        property = reader.GetString();
                        continue;
                    case JsonTokenType.StartObject when (reader.CurrentDepth == 1 && property == "metadata") || (reader.CurrentDepth == 2 && property == "items"):
                        var from = (int)reader.TokenStartIndex;
                        if (!reader.TrySkip())
                            return Suspend(before, consumedBefore);
                        Take(property, _buffer.AsMemory(_start + from, (int)reader.BytesConsumed - from));
                        continue;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray when reader.CurrentDepth == 1 && property != "items":
                        if (!reader.TrySkip())
                            return Suspend(before, consumedBefore);
                        continue;
                    case JsonTokenType.EndObject when reader.CurrentDepth == 0:
                        return true;
                }
            }

            bool Suspend(JsonReaderState state, long consumed)
            {
                // Keep the bytes from the token that could not be finished; the property it belongs to is known again
                // from the state, as it is read on.
                _state = state;
                _start += (int)consumed;
                _property = property;
                return false;
            }
        }

        private string? _property;

        private void Take(string? property, ReadOnlyMemory<byte> json)
        {
            using var document = JsonDocument.Parse(json);
            if (property == "items")
            {
                _items.Add(parse(document.RootElement));
                return;
            }
            var meta = KubernetesJson.Deserialize<V1ListMeta>(document.RootElement);
            _resourceVersion = meta.ResourceVersion;
            _continue = meta.ContinueProperty;
        }

        private async Task FillAsync(CancellationToken cancellationToken)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
            {
                if (_buffer.Length >= MaxItemBytes)
                    throw new ClusterApiException(null, $"Kubernetes API sent a {resource} list item over {MaxItemBytes / 1024 / 1024} MiB; refused");
                Array.Resize(ref _buffer, Math.Min(MaxItemBytes, _buffer.Length * 2));
            }
            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            _end += read;
            _final = read == 0;
        }
    }
}
