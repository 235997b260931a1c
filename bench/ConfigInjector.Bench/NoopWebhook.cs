using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace ConfigInjector.Bench;

/// <summary>
/// The floor the process scenario compares with: the least any webhook must do, on a minimal ASP.NET Core HTTPS
/// endpoint with the same certificate. It parses the review (a forward-only reader over the whole body, as a Go webhook
/// decodes it) and answers "allowed" with the request's own <c>uid</c>, which an API server checks. Run as
/// <c>--serve-noop URL CERT KEY</c>.
/// </summary>
internal static class NoopWebhook
{

    public static async Task RunAsync(string url, string certFile, string keyFile)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(certFile, keyFile);
        builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(h => h.ServerCertificate = certificate));
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        app.MapGet("/readyz", () => "ok");
        app.MapPost("/mutate-pods", async context =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            if (Uid(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)) is not { } uid)
            {
                context.Response.StatusCode = 400;
                return;
            }
            context.Response.ContentType = "application/json";
            await using var writer = new System.Text.Json.Utf8JsonWriter(context.Response.BodyWriter);
            writer.WriteStartObject();
            writer.WriteString("apiVersion", "admission.k8s.io/v1");
            writer.WriteString("kind", "AdmissionReview");
            writer.WriteStartObject("response");
            writer.WriteString("uid", uid);
            writer.WriteBoolean("allowed", true);
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
        await app.RunAsync();
    }

    /// <summary>request.uid, read through the whole document (so malformed JSON anywhere is refused); null when absent.</summary>
    private static string? Uid(ReadOnlySpan<byte> body)
    {
        var reader = new System.Text.Json.Utf8JsonReader(body);
        string? uid = null;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == System.Text.Json.JsonTokenType.PropertyName && reader.CurrentDepth == 2 && reader.ValueTextEquals("uid"u8))
                {
                    reader.Read();
                    uid = reader.GetString();
                }
            }
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
        return uid;
    }
}
