using Microsoft.AspNetCore.Http.Features;

namespace ConfigInjector.Report;

/// <summary>A <c>/refresh</c> body, read whole up to a bound: an announced or actual body past it is an error, not a 500.</summary>
internal static class RefreshBody
{
    public static async Task<Core.Result<ReadOnlyMemory<byte>>> ReadAsync(HttpContext context, long maxBytes)
    {
        var tooLarge = Core.Result.Fail<ReadOnlyMemory<byte>>($"the body is larger than {maxBytes} bytes");
        if (context.Request.ContentLength > maxBytes)
            return tooLarge;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = maxBytes;
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                    return tooLarge;
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException bad)
        {
            return bad.StatusCode == 413 ? tooLarge : Core.Result.Fail<ReadOnlyMemory<byte>>($"the request body could not be read: {bad.Message}");
        }
        return buffer.Length == 0
            ? Core.Result.Fail<ReadOnlyMemory<byte>>("the body is empty; expected {\"refs\": [...]}, an Event Grid delivery or a CloudEvent")
            : Core.Result.Ok<ReadOnlyMemory<byte>>(buffer.ToArray());
    }
}
