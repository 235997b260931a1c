using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConfigInjector.Backends.Vault;

/// <summary>A Vault HTTP answer: status, the JSON body when there is one, and a one-line summary of <c>{"errors": [...]}</c>.</summary>
internal sealed record VaultResponse(HttpStatusCode Status, JsonNode? Body, string Summary)
{
    public bool Ok => (int)Status is >= 200 and < 300;

    // The body holds secret data and tokens: never print it.
    public override string ToString() => $"VaultResponse({(int)Status}, {Summary})";
}

/// <summary>The reason a request never got an HTTP answer (unreachable, timed out).</summary>
internal class VaultUnavailableException(string message) : Exception(message);

/// <summary>
/// Speaks Vault's HTTP API (https://developer.hashicorp.com/vault/api-docs): <c>X-Vault-Token</c> and
/// <c>X-Vault-Namespace</c> headers, a timeout per attempt, and retries with jittered exponential backoff on
/// 429 and 5xx (including 503 while sealed or in standby), honouring <c>Retry-After</c>.
/// </summary>
internal sealed class VaultTransport(HttpClient http, VaultSettings settings, TimeProvider time)
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(2);

    /// <summary>A Kubernetes Secret holds at most 1 MiB of data: an answer can be a few times that in JSON, not more.</summary>
    public const int MaxResponseBytes = 4 * 1024 * 1024;

    public TimeProvider Time => time;

    public async Task<VaultResponse> SendAsync(HttpMethod method, string path, string? token, JsonNode? body, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, new Uri(settings.Address, "/v1/" + path));
            if (token is not null)
                request.Headers.Add("X-Vault-Token", token);
            if (settings.Namespace is not null)
                request.Headers.Add("X-Vault-Namespace", settings.Namespace);
            if (body is not null)
                request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

            using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attemptTimeout.CancelAfter(settings.Timeout);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attemptTimeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new VaultUnavailableException($"vault at {settings.Address.Authority} did not answer within {settings.Timeout.TotalSeconds:0.###}s");
            }
            catch (HttpRequestException e)
            {
                if (attempt < settings.Attempts)
                {
                    await Task.Delay(Backoff(attempt, null), time, cancellationToken);
                    continue;
                }
                throw new VaultUnavailableException($"cannot reach vault at {settings.Address.Authority}: {e.Message}");
            }

            using (response)
            {
                // The handler follows no redirects: following one would hand X-Vault-Token (or a login's JWT or
                // secret_id) to whatever host the Location names.
                if ((int)response.StatusCode is >= 300 and < 400)
                {
                    throw new VaultUnavailableException(
                        $"vault at {settings.Address.Authority} answered HTTP {(int)response.StatusCode} redirecting to {response.Headers.Location?.GetLeftPart(UriPartial.Authority) ?? "elsewhere"}; "
                        + "redirects are not followed so credentials never leave for another host: point address at the active node or a load balancer");
                }
                if (IsRetryable(response.StatusCode) && attempt < settings.Attempts)
                {
                    await Task.Delay(Backoff(attempt, response.Headers.RetryAfter), time, cancellationToken);
                    continue;
                }
                var json = await ReadJsonAsync(response, attemptTimeout.Token);
                return new VaultResponse(response.StatusCode, json, Summarize(response.StatusCode, json));
            }
        }
    }

    private static bool IsRetryable(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status is >= 500 and <= 599 and not 501;

    private TimeSpan Backoff(int attempt, System.Net.Http.Headers.RetryConditionHeaderValue? retryAfter) =>
        RetryDelay(attempt, retryAfter, settings.BaseDelay, time.GetUtcNow(), Random.Shared);

    /// <summary>
    /// How long to wait before retry <paramref name="attempt"/>: the server's Retry-After as the least wait, else
    /// exponential from <paramref name="baseDelay"/>; capped, then spread by up to a quarter more (half either way for
    /// the exponential case), so the replicas and admissions that met the same 429 do not all come back at one instant.
    /// </summary>
    internal static TimeSpan RetryDelay(int attempt, System.Net.Http.Headers.RetryConditionHeaderValue? retryAfter, TimeSpan baseDelay, DateTimeOffset now, Random random)
    {
        TimeSpan Capped(TimeSpan wait) => wait <= TimeSpan.Zero ? TimeSpan.Zero : wait < MaxDelay ? wait : MaxDelay;
        var asked = retryAfter?.Delta ?? (retryAfter?.Date is { } date ? date - now : (TimeSpan?)null);
        if (asked is { } least)
            return Capped(least) * (1 + 0.25 * random.NextDouble());
        return Capped(baseDelay * Math.Pow(2, attempt - 1)) * (0.5 + random.NextDouble());
    }

    private async Task<JsonNode?> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxResponseBytes)
            throw TooLarge();
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        // Grows with the answer (most are a few hundred bytes), stops at the limit.
        using var body = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (body.Length + read > MaxResponseBytes)
                throw TooLarge();
            body.Write(chunk, 0, read);
        }
        if (body.Length == 0)
            return null;
        try
        {
            return JsonNode.Parse(body.GetBuffer().AsSpan(0, (int)body.Length));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private VaultUnavailableException TooLarge() =>
        new($"vault at {settings.Address.Authority} answered with more than {MaxResponseBytes} bytes; not read");

    private static string Summarize(HttpStatusCode status, JsonNode? body)
    {
        var errors = (body as JsonObject)?["errors"] as JsonArray;
        var messages = errors?.Select(e => e?.GetValueKind() == JsonValueKind.String ? e.GetValue<string>() : null).OfType<string>().Where(m => m.Length > 0).ToList() ?? [];
        // Vault's multi-error text ("1 error occurred:\n\t* permission denied\n\n") becomes one line of single spaces.
        var text = messages.Count > 0 ? string.Join(" ", string.Join("; ", messages).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)) : "";
        if (text.Length > 200)
            text = text[..200] + "…";
        return text.Length > 0 ? $"vault HTTP {(int)status}: {text}" : $"vault HTTP {(int)status}";
    }
}
