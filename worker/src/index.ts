export interface Env {
  API_HOSTNAME: string;
}

export default {
  async fetch(): Promise<Response> {
    return new Response("placeholder", { status: 501 });
  },
} satisfies ExportedHandler<Env>;
