//! The documents method's photos (a selfie and the document): the camera through getUserMedia (front for the selfie, rear for the document) with
//! framing guides, a file upload when there is no camera or permission is refused; every image is downscaled
//! and JPEG-encoded here before it is sealed. The face image has its own consent.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlCanvasElement, HtmlVideoElement, MediaStream};
use yew::prelude::*;

use super::consent::target_checked;
use super::{Look, button, checkbox, event_button, heading};
use crate::api::DocumentsPhotos;
use crate::ctx::{Ctx, Input, now_secs};
use crate::i18n::Key;
use realname_core::b64::{self, Form};
use realname_core::flow::Event;

/// Longest side of an image sent, in pixels: enough for a reviewer, small enough for the request limit.
pub const MAX_SIDE: u32 = 640;
/// Largest JPEG accepted per image; quality steps down until it fits.
pub const MAX_BYTES: usize = 24_000;

/// Draws `source` (video, bitmap) of `w`×`h` scaled to fit [`MAX_SIDE`] and encodes it as JPEG within
/// [`MAX_BYTES`] where possible. The result is the canvas's `data:image/jpeg;base64,…` URL: the step shows it
/// as the preview as it is and keeps it as its state (a `String`, like the other steps' state, so Yew's state
/// hook is not compiled for one more type); [`jpeg_bytes`] decodes it once, when the photos are submitted.
pub fn encode_jpeg(
    draw: &dyn Fn(&web_sys::CanvasRenderingContext2d, f64, f64) -> Result<(), JsValue>,
    w: u32,
    h: u32,
) -> Option<String> {
    let (w, h) = (w.max(1), h.max(1));
    let scale = (MAX_SIDE as f64 / w.max(h) as f64).min(1.0);
    let (tw, th) = ((w as f64 * scale).round().max(1.0), (h as f64 * scale).round().max(1.0));
    let doc = web_sys::window()?.document()?;
    let canvas: HtmlCanvasElement = doc.create_element("canvas").ok()?.dyn_into().ok()?;
    canvas.set_width(tw as u32);
    canvas.set_height(th as u32);
    let ctx: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    draw(&ctx, tw, th).ok()?;
    let mut best = None;
    for q in [0.8, 0.7, 0.6, 0.5, 0.4] {
        let url = canvas.to_data_url_with_type_and_encoder_options("image/jpeg", &JsValue::from_f64(q)).ok()?;
        // The JPEG's exact size from its padded base64: 3 bytes per 4 characters, less one per `=`.
        let data = url.split_once(',')?.1;
        let size = (data.len() / 4 * 3).saturating_sub(data.bytes().rev().take_while(|b| *b == b'=').count());
        best = Some(url);
        if size <= MAX_BYTES {
            break;
        }
    }
    best
}

/// The JPEG in a `data:image/jpeg;base64,…` URL from [`encode_jpeg`].
pub fn jpeg_bytes(url: &str) -> Option<Vec<u8>> {
    b64::decode(url.split_once(',')?.1, Form::StandardPadded)
}

fn stop(stream: &MediaStream) {
    for t in stream.get_tracks().iter() {
        if let Ok(t) = t.dyn_into::<web_sys::MediaStreamTrack>() {
            t.stop();
        }
    }
}

async fn open_camera(facing: &str) -> Option<MediaStream> {
    let devices = web_sys::window()?.navigator().media_devices().ok()?;
    let c = web_sys::MediaStreamConstraints::new();
    let video = crate::events::object(&[
        ("facingMode", crate::events::object(&[("ideal", facing.into())])),
        ("width", crate::events::object(&[("ideal", 1280.into())])),
    ]);
    c.set_video(&video);
    c.set_audio(&JsValue::FALSE);
    let p = devices.get_user_media_with_constraints(&c).ok()?;
    JsFuture::from(p).await.ok()?.dyn_into().ok()
}

async fn file_to_jpeg(file: web_sys::File) -> Option<String> {
    let window = web_sys::window()?;
    let bitmap: web_sys::ImageBitmap =
        JsFuture::from(window.create_image_bitmap_with_blob(&file).ok()?).await.ok()?.dyn_into().ok()?;
    let (w, h) = (bitmap.width(), bitmap.height());
    let out =
        encode_jpeg(&|ctx, tw, th| ctx.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, tw, th), w, h);
    bitmap.close();
    out
}

#[derive(Clone, PartialEq)]
enum Cam {
    Idle,
    Opening,
    Live(MediaStream),
    Unavailable,
}

/// The camera of one capture slot: its state, and the effect that shows a live stream in the slot's video
/// element and stops the camera when the stream is replaced or the step goes away. A hook shared by both slots
/// rather than a slot component: every component costs its own copy of Yew's lifecycle code in the size budget.
#[hook]
fn use_camera(video: NodeRef) -> UseStateHandle<Cam> {
    let cam = use_state(|| Cam::Idle);
    use_effect_with((*cam).clone(), move |cam| {
        let stream = if let Cam::Live(s) = cam { Some(s.clone()) } else { None };
        if let (Some(s), Some(v)) = (&stream, video.cast::<HtmlVideoElement>()) {
            v.set_src_object(Some(s));
            let _ = v.play();
        }
        move || {
            if let Some(s) = stream {
                stop(&s);
            }
        }
    });
    cam
}

/// One capture slot's inputs.
struct Slot {
    /// `user` (selfie) or `environment` (document).
    facing: &'static str,
    /// The slot's label.
    label: Key,
    /// The framing guide's text.
    guide: Key,
    /// Whether the slot may be used (the face consent is given).
    enabled: bool,
    /// The photo as a JPEG data URL (from [`encode_jpeg`]); empty until taken.
    image: UseStateHandle<String>,
    /// The camera (from [`use_camera`]).
    cam: UseStateHandle<Cam>,
    /// The live preview's video element.
    video: NodeRef,
}

/// One photo: camera with a framing guide, or upload.
fn capture_slot(ctx: &Ctx, p: Slot) -> Html {
    let Slot { facing, label, guide, enabled, image, cam, video } = p;
    let doc_guide = facing == "environment";
    let id = if doc_guide { "rn-file-environment" } else { "rn-file-user" };
    let start = {
        let cam = cam.clone();
        Callback::from(move |_: MouseEvent| {
            let cam = cam.clone();
            cam.set(Cam::Opening);
            wasm_bindgen_futures::spawn_local(async move {
                cam.set(match open_camera(facing).await {
                    Some(s) => Cam::Live(s),
                    None => Cam::Unavailable,
                });
            });
        })
    };
    let take = {
        let (cam, video, image) = (cam.clone(), video.clone(), image.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(v) = video.cast::<HtmlVideoElement>() else { return };
            let jpeg = encode_jpeg(
                &|c, tw, th| c.draw_image_with_html_video_element_and_dw_and_dh(&v, 0.0, 0.0, tw, th),
                v.video_width(),
                v.video_height(),
            );
            if let Some(j) = jpeg {
                image.set(j);
                cam.set(Cam::Idle);
            }
        })
    };
    let upload = {
        let (image, cam) = (image.clone(), cam.clone());
        Callback::from(move |e: web_sys::Event| {
            let input = e.target_dyn_into::<web_sys::HtmlInputElement>();
            let file = input.as_ref().and_then(|i| i.files()).and_then(|f| f.get(0));
            if let Some(i) = &input {
                i.set_value("");
            }
            let (image, cam) = (image.clone(), cam.clone());
            if let Some(file) = file {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Some(j) = file_to_jpeg(file).await {
                        image.set(j);
                        // The upload was the way on and it worked: the camera's error has done its job.
                        cam.set(Cam::Idle);
                    }
                });
            }
        })
    };
    let retake = {
        let image = image.clone();
        Callback::from(move |_: MouseEvent| image.set(String::new()))
    };
    let preview = (!image.is_empty()).then(|| (*image).clone());
    let mut live = matches!(*cam, Cam::Live(_));
    if let (Cam::Live(s), Some(_)) = (&*cam, &preview) {
        // A photo uploaded while the camera permission prompt was open: the camera that opened after it is not
        // needed and must not stay on (its light, its frames) behind the photo. Stopped here, not left to
        // `use_camera`'s cleanup: Yew may render Live and then Idle before effects run, and then no effect ever
        // held this stream.
        stop(s);
        cam.set(Cam::Idle);
        live = false;
    }
    html! {
        <fieldset class="rn-field" part="capture" disabled={!enabled}>
            <legend><strong>{ ctx.t(label) }</strong></legend>
            if live || preview.is_some() {
                <div class="rn-capture">
                    if let Some(src) = preview.clone() {
                        <img src={src} alt={ctx.t(Key::DocumentsTaken)} />
                    } else {
                        <video ref={video} autoplay=true playsinline=true muted=true aria-label={ctx.t(guide)}></video>
                        // Literal classes in two branches: a computed `class` would pull in Yew's `Classes`.
                        if doc_guide { <div class="rn-guide rn-doc" aria-hidden="true"></div> } else { <div class="rn-guide" aria-hidden="true"></div> }
                    }
                </div>
            }
            if live { <p class="rn-hint">{ ctx.t(guide) }</p> }
            if *cam == Cam::Unavailable { <p class="rn-error" role="status">{ ctx.t(Key::DocumentsNoCamera) }</p> }
            <div class="rn-actions">
                if preview.is_some() {
                    { button(Look::Secondary, "button", ctx.t(Key::DocumentsRetake), false, Some(retake)) }
                } else if live {
                    { button(Look::Primary, "button", ctx.t(Key::DocumentsCapture), false, Some(take)) }
                } else {
                    if *cam != Cam::Unavailable {
                        { button(Look::Primary, "button", ctx.t(Key::DocumentsCamera), *cam == Cam::Opening, Some(start)) }
                    }
                    // The real input stays in the tab order (visually hidden); its label is the visible button
                    // and shows the focus ring when the input has keyboard focus.
                    <input class="rn-file" id={id} type="file" accept="image/jpeg,image/png,image/webp,image/heic" capture={facing} onchange={upload} />
                    <label class="rn-button rn-secondary" part="button button-secondary" for={id}>{ ctx.t(Key::DocumentsUpload) }</label>
                }
            </div>
        </fieldset>
    }
}

/// Props of [`DocumentsStep`].
#[derive(Properties, PartialEq)]
pub struct DocumentsProps {
    /// The widget-wide configuration, texts, event emitter and API client (see [`crate::ctx::Ctx`]).
    pub ctx: std::rc::Rc<crate::ctx::Ctx>,
    /// Called with both images once taken and confirmed.
    pub on_input: Callback<Input>,
    /// Flow events.
    pub on_event: Callback<Event>,
}

/// The documents step: the face consent, the selfie and the document photo.
#[component]
pub fn DocumentsStep(props: &DocumentsProps) -> Html {
    let ctx = &props.ctx;
    let consent = use_state(|| None::<i64>);
    let selfie = use_state(String::new);
    let document = use_state(String::new);
    let (selfie_video, document_video) = (use_node_ref(), use_node_ref());
    let selfie_cam = use_camera(selfie_video.clone());
    let document_cam = use_camera(document_video.clone());
    let toggle = {
        let consent = consent.clone();
        Callback::from(move |e: web_sys::Event| consent.set(target_checked(&e).then(now_secs)))
    };
    let ready = consent.is_some() && !selfie.is_empty() && !document.is_empty();
    let submit = {
        let (cb, consent, selfie, document) =
            (props.on_input.clone(), *consent, (*selfie).clone(), (*document).clone());
        Callback::from(move |_: MouseEvent| {
            if let (Some(at), Some(s), Some(d)) = (consent, jpeg_bytes(&selfie), jpeg_bytes(&document)) {
                cb.emit(Input::Documents(DocumentsPhotos { selfie: s, document: d, consent_at: at }));
            }
        })
    };
    html! {
        <div part="step step-documents">
            { heading(ctx, Key::DocumentsHeading) }
            { checkbox("rn-face-consent", consent.is_some(), None, ctx.t(Key::DocumentsFaceConsent), toggle) }
            { capture_slot(ctx, Slot {
                facing: "user", label: Key::DocumentsSelfie, guide: Key::DocumentsGuideSelfie, enabled: consent.is_some(),
                image: selfie, cam: selfie_cam, video: selfie_video,
            }) }
            { capture_slot(ctx, Slot {
                facing: "environment", label: Key::DocumentsDocument, guide: Key::DocumentsGuideDocument, enabled: consent.is_some(),
                image: document, cam: document_cam, video: document_video,
            }) }
            <div class="rn-actions">
                { event_button(ctx, Look::Secondary, Key::Back, &props.on_event, Event::Back) }
                { button(Look::Primary, "button", ctx.t(Key::DocumentsSubmit), !ready, Some(submit)) }
            </div>
        </div>
    }
}
