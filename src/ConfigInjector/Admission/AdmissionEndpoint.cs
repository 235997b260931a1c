using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using ConfigInjector.Core.Planning;
using ConfigInjector.Observability;
using k8s.Models;
using Microsoft.AspNetCore.Http.Features;

namespace ConfigInjector.Admission;

/// <summary>
/// <c>POST /mutate-pods</c>: binds the AdmissionReview, rejects bad input with HTTP 400/413 and a one-line
/// reason, echoes uid/apiVersion/kind, and records metrics. Never a 500, never a stack trace.
/// </summary>
internal sealed partial class AdmissionEndpoint(AdmissionHandler handler, IAdmissionEvents events, InjectorMetrics metrics, long maxRequestBytes, TimeSpan admissionTimeout, ILogger<AdmissionEndpoint> log)
{
    public const string Path = "/mutate-pods";
    private const string ApiVersion = "admission.k8s.io/v1";

    private sealed class BadRequest(int status, string reason) : Exception(reason)
    {
        public int Status => status;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        string result;
        // The API server gives up after its webhook timeout and closes the connection: work stops then, or at our
        // own deadline, whichever comes first, so a hostile review cannot keep a core busy after nobody waits.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(admissionTimeout);
        try
        {
            var (review, input) = await BindAsync(context, deadline.Token);
            var verdict = input is null ? AdmissionVerdict.Pass([]) : await DecideAsync(input, deadline.Token, context.RequestAborted);
            result = verdict.Result;
            await WriteReviewAsync(context, review, verdict);
            // Dry runs change nothing, Events included.
            if (input is { DryRun: false })
                events.Answered(input, verdict);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller is gone: nobody reads an answer.
            result = "aborted";
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // The deadline passed while the body was still arriving (a client trickling bytes). Kestrel cannot answer
            // and drain a body whose read was cancelled, so the connection is closed: one log line, no 500.
            result = "bad_request";
            LogBadRequest(log, 408, "the request body did not arrive within the admission deadline; connection closed");
            context.Abort();
        }
        catch (BadRequest bad)
        {
            result = "bad_request";
            LogBadRequest(log, bad.Status, bad.Message);
            context.Response.StatusCode = bad.Status;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(AdmissionVerdict.OneLine(bad.Message) + "\n");
        }
        metrics.CountAdmission(result);
        metrics.AdmissionDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private async Task<AdmissionVerdict> DecideAsync(AdmissionInput input, CancellationToken cancellationToken, CancellationToken callerAborted)
    {
        // Every line logged while deciding (handler, backends, store, audit) carries the pod it is about.
        using var scope = log.BeginScope(new AdmissionLogScope(input.Namespace, input.Pod.Metadata?.Name ?? input.Pod.Metadata?.GenerateName, input.Uid));
        using var span = AdmissionTracing.Start(input);
        try
        {
            return AdmissionTracing.End(span, await handler.HandleAsync(input, cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !callerAborted.IsCancellationRequested)
        {
            LogDeadline(log, admissionTimeout.TotalSeconds, input.Namespace, input.Uid);
            return AdmissionTracing.End(span, AdmissionVerdict.Failure($"configinjector: the admission did not finish within {admissionTimeout.TotalSeconds:0.#}s"));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // A bug must not become a 500 the API server cannot explain: deny this pod and say where to look.
            var id = Guid.NewGuid().ToString("N")[..8];
            LogUnexpected(log, e, id, input.Namespace, input.Uid);
            return AdmissionTracing.End(span, AdmissionVerdict.Failure($"configinjector: internal error {id}; see the webhook log"));
        }
    }

    /// <summary>Returns the review and, when it is a Pod CREATE for us, the input; null input means "allow, nothing to do".</summary>
    private async Task<(AdmissionReview Review, AdmissionInput? Input)> BindAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var (body, length) = await ReadBodyAsync(context, cancellationToken);
        try
        {
            return Bind(body.AsSpan(0, length));
        }
        finally
        {
            // Nothing bound keeps the buffer: the review and the pod hold copies of what they read.
            ReturnBody(body);
        }
    }

    private static (AdmissionReview Review, AdmissionInput? Input) Bind(ReadOnlySpan<byte> body)
    {
        AdmissionReview? review;
        try
        {
            review = JsonSerializer.Deserialize(body, AdmissionJson.Default.AdmissionReview);
        }
        catch (JsonException e)
        {
            throw new BadRequest(400, $"the body is not a valid AdmissionReview JSON document: {e.Message}");
        }
        if (review is null)
            throw new BadRequest(400, "the body is JSON null, not an AdmissionReview");
        if (review.ApiVersion != ApiVersion || review.Kind != "AdmissionReview")
            throw new BadRequest(400, $"expected apiVersion {ApiVersion} and kind AdmissionReview, got \"{review.ApiVersion}\" \"{review.Kind}\"");
        var request = review.Request ?? throw new BadRequest(400, "the AdmissionReview has no request");
        if (string.IsNullOrEmpty(request.Uid))
            throw new BadRequest(400, "request.uid is missing");
        if (request.Kind is not { Group: "" or null, Version: "v1", Kind: "Pod" })
            throw new BadRequest(400, $"request.kind is {request.Kind?.ToString() ?? "missing"}; this webhook mutates only v1 Pod");
        if (request.Operation != "CREATE" || !string.IsNullOrEmpty(request.SubResource))
            return (review, null);
        if (request.Object is not { Token: JsonTokenType.StartObject } podJson)
            throw new BadRequest(400, "request.object is missing or not a JSON object");

        V1Pod pod;
        try
        {
            pod = PodJson.Deserialize(body.Slice(podJson.Start, podJson.Length));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The model's converters throw various types for bad quantities, dates and the like: all are bad input.
            throw new BadRequest(400, $"request.object is not a valid Pod: {e.Message}");
        }
        if (pod.Kind is not null and not "Pod")
            throw new BadRequest(400, $"request.object.kind is {pod.Kind}; this webhook mutates only Pods");
        if (PodShape.Problem(pod) is { } malformed)
            throw new BadRequest(400, $"request.object is not a valid Pod: {malformed}");
        var podNamespace = !string.IsNullOrEmpty(request.Namespace) ? request.Namespace : pod.Metadata?.NamespaceProperty;
        if (string.IsNullOrEmpty(podNamespace))
            throw new BadRequest(400, "request.namespace is missing");
        return (review, new AdmissionInput(request.Uid, pod, podNamespace, request.DryRun == true, request.UserInfo?.Username));
    }

    /// <summary>The body in a pooled buffer (the caller returns it), at most <c>maxRequestBytes</c>.</summary>
    private async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength > maxRequestBytes)
            throw new BadRequest(413, $"the body is larger than {maxRequestBytes} bytes");
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
            sizeFeature.MaxRequestBodySize = maxRequestBytes;

        // One byte more than announced: the read that returns 0 needs room to say the body ended.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min((context.Request.ContentLength ?? 16 * 1024) + 1, maxRequestBytes + 1));
        var length = 0;
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
                if (length > maxRequestBytes)
                    throw new BadRequest(413, $"the body is larger than {maxRequestBytes} bytes");
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, maxRequestBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ReturnBody(buffer);
                    buffer = larger;
                }
            }
        }
        catch (Exception e)
        {
            ReturnBody(buffer);
            if (e is Microsoft.AspNetCore.Http.BadHttpRequestException bad)
                throw new BadRequest(bad.StatusCode, bad.StatusCode == 413 ? $"the body is larger than {maxRequestBytes} bytes" : $"the request body could not be read: {bad.Message}");
            throw;
        }
        if (length == 0)
        {
            ReturnBody(buffer);
            throw new BadRequest(400, "the body is empty; expected an AdmissionReview");
        }
        return (buffer, length);
    }

    // A hostile review may be megabytes: the pool keeps only buffers of the sizes real pods have.
    private static void ReturnBody(byte[] buffer)
    {
        if (buffer.Length <= 1024 * 1024)
            ArrayPool<byte>.Shared.Return(buffer);
    }

    private static async Task WriteReviewAsync(HttpContext context, AdmissionReview request, AdmissionVerdict verdict)
    {
        ReviewAnswer.WriteTo(context.Response, request.Request!.Uid!, verdict);
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "rejected an admission request with HTTP {Status}: {Reason}")]
    private static partial void LogBadRequest(ILogger logger, int status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "admission of a pod in {Namespace} (uid {Uid}) stopped at its {Seconds}s deadline")]
    private static partial void LogDeadline(ILogger logger, double seconds, string @namespace, string uid);

    [LoggerMessage(Level = LogLevel.Error, Message = "internal error {Id} while admitting a pod in {Namespace} (uid {Uid})")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string id, string @namespace, string uid);
}
