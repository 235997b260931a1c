using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace ConfigInjector.Bench;

/// <summary>
/// The floor the process scenario compares with: a minimal ASP.NET Core HTTPS endpoint, same certificate, that reads
/// the whole review and answers a fixed AdmissionReview ("allowed", no patch). Run as <c>--serve-noop URL CERT KEY</c>.
/// </summary>
internal static class NoopWebhook
{
    private static readonly byte[] Answer =
        """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"7f0b2c1e-5b7a-4c1e-9d2a-3c4b5a6d7e8f","allowed":true}}"""u8.ToArray();

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
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(Answer);
        });
        await app.RunAsync();
    }
}
