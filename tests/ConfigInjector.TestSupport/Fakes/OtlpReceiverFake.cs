using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>One span as exported: ids as lowercase hex (empty parent for a root), and its name.</summary>
public sealed record ExportedSpan(string TraceId, string SpanId, string ParentSpanId, string Name);

/// <summary>
/// An OpenTelemetry collector's OTLP trace receiver on plain HTTP at 127.0.0.1, as strict as the protocol
/// (https://opentelemetry.io/docs/specs/otlp/). OTLP/HTTP: only <c>POST /v1/traces</c>; a body in binary protobuf
/// (<c>application/x-protobuf</c>), optionally gzip-compressed, else 415; an undecodable body is 400; success is 200
/// with an empty <c>ExportTraceServiceResponse</c> in the request's encoding. OTLP/gRPC (started with <c>grpc: true</c>, HTTP/2
/// with prior knowledge, as a collector's plaintext port): only <c>TraceService/Export</c> with <c>application/grpc</c>
/// and uncompressed length-prefixed messages (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md),
/// answered with an empty message and <c>grpc-status: 0</c>. It decodes the spans' ids and names from
/// the protobuf wire format by hand (https://protobuf.dev/programming-guides/encoding/), against the field numbers of
/// opentelemetry/proto/trace/v1/trace.proto.
/// </summary>
public sealed class OtlpReceiverFake : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ExportedSpan> _spans = new();
    private int _requests;

    private OtlpReceiverFake(WebApplication app) => _app = app;

    /// <summary>The base URL, as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> takes it (the exporter adds <c>/v1/traces</c>).</summary>
    public Uri Address { get; private set; } = null!;

    public IReadOnlyList<ExportedSpan> Spans => [.. _spans];

    /// <summary>Export requests accepted so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public const string GrpcPath = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

    public static async Task<OtlpReceiverFake> StartAsync(int port = 0, bool grpc = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = grpc ? HttpProtocols.Http2 : HttpProtocols.Http1));
        var app = builder.Build();
        var fake = new OtlpReceiverFake(app);
        app.Run(grpc ? fake.HandleGrpcAsync : fake.HandleAsync);
        await app.StartAsync();
        fake.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return fake;
    }

    /// <summary>Waits until spans named <paramref name="names"/> of <paramref name="traceId"/> have all arrived.</summary>
    public async Task<IReadOnlyList<ExportedSpan>> WaitForAsync(string traceId, IEnumerable<string> names, TimeSpan timeout)
    {
        var wanted = names.ToHashSet(StringComparer.Ordinal);
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var spans = Spans.Where(s => s.TraceId == traceId).ToList();
            if (wanted.IsSubsetOf(spans.Select(s => s.Name)) || DateTime.UtcNow > until)
                return spans;
            await Task.Delay(50);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (context.Request.Path != "/v1/traces")
        {
            context.Response.StatusCode = 404;
            return;
        }
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.StatusCode = 405;
            return;
        }
        if (context.Request.ContentType?.Split(';')[0].Trim() != "application/x-protobuf")
        {
            // The JSON encoding is allowed by OTLP too, but the exporter under test is configured for protobuf.
            context.Response.StatusCode = 415;
            return;
        }
        var body = new MemoryStream();
        var source = context.Request.Headers.ContentEncoding == "gzip" ? new GZipStream(context.Request.Body, CompressionMode.Decompress) : context.Request.Body;
        await source.CopyToAsync(body);
        List<ExportedSpan> spans;
        try
        {
            spans = [.. ReadRequest(body.ToArray())];
        }
        catch (FormatException e)
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsync(e.Message);
            return;
        }
        foreach (var span in spans)
            _spans.Enqueue(span);
        Interlocked.Increment(ref _requests);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-protobuf";
    }

    private async Task HandleGrpcAsync(HttpContext context)
    {
        if (context.Request.Path != GrpcPath || !HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.StatusCode = 404;
            return;
        }
        if (context.Request.ContentType?.Split(';')[0].Trim() is not ("application/grpc" or "application/grpc+proto"))
        {
            context.Response.StatusCode = 415;
            return;
        }
        var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var frames = body.ToArray();
        var spans = new List<ExportedSpan>();
        var status = "0";
        for (var at = 0; at < frames.Length && status == "0";)
        {
            // A message: a compressed flag (0: none, as no grpc-encoding was agreed), a 4-byte big-endian length, the bytes.
            var length = at + 5 <= frames.Length ? (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frames.AsSpan(at + 1, 4)) : -1;
            if (length < 0 || frames[at] != 0 || at + 5 + length > frames.Length)
            {
                status = "13"; // INTERNAL: a malformed frame
                break;
            }
            try
            {
                spans.AddRange(ReadRequest(frames[(at + 5)..(at + 5 + length)]));
            }
            catch (FormatException)
            {
                status = "3"; // INVALID_ARGUMENT
            }
            at += 5 + length;
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/grpc";
        if (status == "0")
        {
            foreach (var span in spans)
                _spans.Enqueue(span);
            Interlocked.Increment(ref _requests);
            await context.Response.Body.WriteAsync(new byte[5]);
        }
        context.Response.AppendTrailer("grpc-status", status);
    }

    // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
    // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
    // Span { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5; ... }
    private static IEnumerable<ExportedSpan> ReadRequest(byte[] body) =>
        Fields(body, 1).SelectMany(resource => Fields(resource, 2)).SelectMany(scope => Fields(scope, 2)).Select(ReadSpan);

    private static ExportedSpan ReadSpan(byte[] span)
    {
        string Hex(int field) => Fields(span, field).Select(b => Convert.ToHexStringLower(b)).LastOrDefault() ?? "";
        var traceId = Hex(1);
        var spanId = Hex(2);
        if (traceId.Length != 32 || spanId.Length != 16)
            throw new FormatException($"a span with trace_id of {traceId.Length / 2} bytes and span_id of {spanId.Length / 2} bytes (16 and 8 required)");
        return new ExportedSpan(traceId, spanId, Hex(4), System.Text.Encoding.UTF8.GetString(Fields(span, 5).LastOrDefault() ?? []));
    }

    /// <summary>The payloads of every length-delimited field numbered <paramref name="number"/>; other fields skipped by wire type.</summary>
    private static List<byte[]> Fields(byte[] message, int number)
    {
        var found = new List<byte[]>();
        var at = 0;
        while (at < message.Length)
        {
            var tag = Varint(message, ref at);
            var wireType = (int)(tag & 7);
            switch (wireType)
            {
                case 0:
                    Varint(message, ref at);
                    break;
                case 1:
                    at += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref at);
                    if (length < 0 || at + length > message.Length)
                        throw new FormatException("a length-delimited field runs past the end of its message");
                    if ((int)(tag >> 3) == number)
                        found.Add(message[at..(at + length)]);
                    at += length;
                    break;
                case 5:
                    at += 4;
                    break;
                default:
                    throw new FormatException($"wire type {wireType} is not one protobuf 3 uses");
            }
            if (at > message.Length)
                throw new FormatException("a field runs past the end of its message");
        }
        return found;
    }

    private static ulong Varint(byte[] message, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= message.Length)
                throw new FormatException("a varint runs past the end of its message");
            var b = message[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
                return value;
        }
        throw new FormatException("a varint longer than 10 bytes");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
