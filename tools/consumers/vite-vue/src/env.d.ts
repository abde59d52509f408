/// <reference types="vite/client" />
import type {} from "realname-widget/vue";
