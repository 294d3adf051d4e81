/** The JSON body of a response, or null when there is none (a redirect may still say `application/json`). */
export async function readJson<T>(response: Response): Promise<T | null> {
  if (!response.headers.get("content-type")?.includes("json")) return null;
  return (await response
    .clone()
    .json()
    .catch(() => null)) as T | null;
}
