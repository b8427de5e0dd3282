import { createReadStream } from "node:fs";
import { open, rm, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import type { ClientRequest, IncomingMessage, RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { pipeline } from "node:stream/promises";
import { CloisterError } from "../../common/errors.ts";
import { describeUrl } from "./file-url.ts";
import type { FileTransport, TransportOptions } from "./file-transport.ts";

function startRequest(
  url: URL,
  method: "GET" | "PUT",
  headers: Record<string, string | number>,
  options: TransportOptions,
): ClientRequest {
  const requestOptions: RequestOptions & { ca?: string | Buffer } = { method, headers };
  if (options.signal !== undefined) requestOptions.signal = options.signal;
  if (url.protocol === "https:") {
    if (options.httpsCa !== undefined) requestOptions.ca = options.httpsCa;
    return httpsRequest(url, requestOptions);
  }
  return httpRequest(url, requestOptions);
}

function awaitResponse(request: ClientRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request.once("response", resolve);
    request.once("error", reject);
  });
}

function transferError(action: string, url: URL, error: unknown): CloisterError {
  if (CloisterError.is(error)) return error;
  if (error instanceof Error && error.name === "AbortError") {
    return new CloisterError("ABORTED", `${action} of ${describeUrl(url)} was aborted`, {
      cause: error,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new CloisterError("UNAVAILABLE", `${action} of ${describeUrl(url)} failed: ${reason}`, {
    cause: error,
  });
}

/**
 * `http:` and `https:` URLs: GET for inputs, PUT for outputs. Redirects are not followed.
 * NOTE: downloads have no size limit, so a large input can fill the work directory's disk;
 * the task's abort signal is the only bound.
 */
export const httpTransport: FileTransport = {
  async download(url, destination, options) {
    let handle: FileHandle;
    try {
      handle = await open(destination, "wx");
    } catch (error) {
      throw new CloisterError(
        "ALREADY_EXISTS",
        `download destination already exists: ${destination}`,
        {
          cause: error,
        },
      );
    }
    try {
      const request = startRequest(url, "GET", {}, options);
      request.end();
      const response = await awaitResponse(request);
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) {
        response.resume();
        throw new CloisterError(
          status === 404 ? "NOT_FOUND" : "UNAVAILABLE",
          `download of ${describeUrl(url)} failed with HTTP ${status}; expected a 2xx status`,
        );
      }
      // The write stream closes the handle when it finishes or fails.
      await pipeline(response, handle.createWriteStream());
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(destination, { force: true });
      throw transferError("download", url, error);
    }
  },

  async upload(source, url, options) {
    const { size } = await stat(source);
    try {
      const request = startRequest(
        url,
        "PUT",
        { "Content-Type": "application/x-binary", "Content-Length": size },
        options,
      );
      const response = awaitResponse(request);
      // The body error, if any, surfaces through the pipeline; the response may come first.
      const sent = pipeline(createReadStream(source), request);
      const [result] = await Promise.all([response, sent]);
      result.resume();
      if (result.statusCode !== 200) {
        throw new CloisterError(
          "UNAVAILABLE",
          `upload to ${describeUrl(url)} failed with HTTP ${result.statusCode ?? 0}; ` +
            "the server must answer 200",
        );
      }
    } catch (error) {
      throw transferError("upload", url, error);
    }
  },
};
