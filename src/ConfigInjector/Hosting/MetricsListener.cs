using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Prometheus;

namespace ConfigInjector.Hosting;

/// <summary>
/// The <c>--metrics-urls</c> listeners: a connection that arrives on one is marked when it is accepted, and its
/// requests get <c>GET /metrics</c> or 404, never the admission path, <c>/report</c> or the probes. The mark is on the
/// connection, not on the Host header or the port a request names, so no client can talk its way past it.
/// </summary>
internal static class MetricsListener
{
    public const string Path = "/metrics";

    private const string Mark = "configinjector.metrics-listener";

    public static void MarkConnections(ListenOptions listen) =>
        listen.Use(next => connection =>
        {
            connection.Items[Mark] = true;
            return next(connection);
        });

    /// <summary>Branches every request of a marked connection off to metrics alone; call before routing.</summary>
    public static void Serve(WebApplication app, CollectorRegistry registry) =>
        app.MapWhen(ArrivedOnMetricsListener, branch =>
        {
            branch.Use((context, next) =>
            {
                if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path == Path)
                    return next(context);
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
            branch.UseMetricServer(Path, registry);
        });

    private static bool ArrivedOnMetricsListener(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(Mark) == true;
}
