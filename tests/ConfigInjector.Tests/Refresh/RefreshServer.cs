using System.Net.Http.Headers;
using System.Text;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Refresh;

/// <summary>
/// A webhook with <c>--refresh-access secret-file:config/refresh-secret</c>, the dev file backend and an azure-keyvault
/// backend on <c>kv-prod</c> (never reached: only its vaultUri matters here), and a recording refresh requester.
/// </summary>
internal static class RefreshServer
{
    public const string Secret = "s3cr3t-shared-between-event-grid-and-us";

    public static Task<WebhookServer> StartAsync(RecordingRefreshRequester? requester, string access = "secret-file:config/refresh-secret") =>
        WebhookServer.StartAsync(work =>
        {
            Directory.CreateDirectory(Path.Combine(work, "config"));
            File.WriteAllText(Path.Combine(work, "config", "refresh-secret"), Secret + "\n");
            File.WriteAllText(Path.Combine(work, "config", "injector.yaml"), """
                backends:
                  - name: dev
                    type: file
                    path: ../examples/dev-secrets.yaml
                  - name: kv-prod
                    type: azure-keyvault
                    vaultUri: https://kv-prod.vault.azure.net/
                """);
        }, settings: s => s with { ConfigFile = "config/injector.yaml", RefreshAccess = access }, services: requester is null ? null : requester.Register);

    public static async Task<HttpResponseMessage> PostAsync(this WebhookServer server, string body, string? bearer = Secret, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/refresh") { Content = new StringContent(body, Encoding.UTF8, contentType) };
        if (bearer is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return await server.Client.SendAsync(request);
    }

    public static async Task<string> MetricsAsync(this WebhookServer server) => await server.Client.GetStringAsync("/metrics");
}
